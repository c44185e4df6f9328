package talkbot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
)

// AnnotateOver is the output size above which the output is also attached
// to the job as a "log" annotation, so that it is listed and downloadable
// on the job page rather than only buried in the log.
const AnnotateOver = 2 << 10

// reportTimeout bounds the reporting after a run, which happens even when
// the request's context ended (the command was killed, and that must be
// recorded).
const reportTimeout = 30 * time.Second

// run is one invocation ready to execute, with where to report it.
type run struct {
	id            string // request id; keys the log entries so nothing logs twice
	jobID         string
	channel       string
	thread        string // "" posts the result at the top level
	inv           *talkback.Invocation
	approver      *jobs.Identity // who confirmed, when confirmation was needed
	approverSlack string
	answerTo      string // Slack user told alone about a busy executor; "" tells the thread
}

// execute runs the invocation and reports start, result and output.
func (h *Handler) execute(ctx context.Context, r run) error {
	requester := r.inv.Requester.Name
	h.appendLog(ctx, r.jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: requester, Via: jobs.ViaSlack,
		Key: "talkback:" + r.id + ":started", Text: "started " + r.inv.CommandLine(),
		Fields: h.fields(r, map[string]string{"phase": "started"})})
	res, err := h.exec.Run(ctx, r.jobID, r.inv)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer cancel()
	if err != nil {
		return h.notStarted(rctx, r, err)
	}
	h.metrics.requests.WithLabelValues("run").Inc()
	annotated := h.record(rctx, r, res)
	return h.reply(rctx, r, resultText(r, res, annotated))
}

// notStarted reports a run the executor refused (busy) or could not start.
func (h *Handler) notStarted(ctx context.Context, r run, err error) error {
	reason := "it could not be started; the server log has the details"
	ref, refused := talkback.IsRefusal(err)
	if refused {
		reason = ref.Reason
	} else {
		h.log.Error("talkback command did not start", "job", r.jobID, "action", r.inv.Action.Name, "err", err)
	}
	h.metrics.requests.WithLabelValues("failed").Inc()
	h.appendLog(ctx, r.jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: r.inv.Requester.Name, Via: jobs.ViaSlack,
		Key: "talkback:" + r.id + ":not_started", Text: "not run: " + reason,
		Fields: h.fields(r, map[string]string{"phase": "not_started"})})
	text := fmt.Sprintf("⚠️ %s was not run: %s", inlineCode(r.inv.CommandLine()), reason)
	if refused && r.answerTo != "" {
		return h.tell(ctx, r.channel, r.answerTo, text)
	}
	return h.reply(ctx, r, text)
}

// record writes the result to the job log, and the output as a log
// annotation when it is long; it reports whether it annotated.
func (h *Handler) record(ctx context.Context, r run, res *talkback.Result) bool {
	f := h.fields(r, map[string]string{
		"phase": "finished", "exit_code": strconv.Itoa(res.ExitCode), "duration": res.Duration.String(),
		"timed_out": strconv.FormatBool(res.TimedOut), "truncated": strconv.FormatBool(res.Truncated),
		"canceled": strconv.FormatBool(res.Canceled)})
	out := res.Text()
	h.appendLog(ctx, r.jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: r.inv.Requester.Name, Via: jobs.ViaSlack,
		Key: "talkback:" + r.id + ":finished", Fields: f,
		Text: fmt.Sprintf("%s: %s\n%s", r.inv.CommandLine(), res.Summary(), out)})
	if len(out) <= AnnotateOver {
		return false
	}
	actor := jobs.Identity{Name: r.inv.Requester.Name, Email: r.inv.Requester.Email, Slack: r.inv.Requester.ID}
	_, err := h.svc.Annotate(ctx, actor, jobs.ViaSlack, r.jobID, jobs.NewAnnotation{Kind: jobs.AnnotationLog,
		Name: "talkback-" + r.inv.Action.Name + "-" + r.id + ".log", Text: out,
		Data: map[string]any{"action": r.inv.Action.Name, "exit_code": res.ExitCode, "request": r.id}})
	if err != nil {
		h.log.Error("talkback output annotation failed", "job", r.jobID, "err", err)
		return false
	}
	return true
}

// fields are the structured fields every talkback log entry carries.
func (h *Handler) fields(r run, extra map[string]string) map[string]string {
	f := map[string]string{"action": r.inv.Action.Name, "argv": r.inv.CommandLine(),
		"requester": r.inv.Requester.Name, "request": r.id}
	if r.approver != nil {
		f["approver"] = r.approver.Name
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// resultText is the channel reply: outcome, who, and the clipped output.
func resultText(r run, res *talkback.Result, annotated bool) string {
	icon := "✅"
	if !res.OK() {
		icon = "❌"
	}
	who := "requested by <@" + r.inv.Requester.ID + ">"
	if r.approverSlack != "" {
		who += ", confirmed by <@" + r.approverSlack + ">"
	}
	return fmt.Sprintf("%s %s (%s): %s\n%s", icon, inlineCode(r.inv.CommandLine()), who, res.Summary(),
		replyOutput(res.Text(), annotated))
}

// reply posts in the request's thread (or the channel for slash commands).
func (h *Handler) reply(ctx context.Context, r run, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if r.thread != "" {
		opts = append(opts, slack.MsgOptionTS(r.thread))
	}
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, _, err := h.api.PostMessageContext(ctx, r.channel, opts...)
		return err
	})
	if err != nil {
		h.log.Warn("talkback result not posted", "channel", r.channel, "err", err)
		return fmt.Errorf("chat.postMessage: %w", err)
	}
	return nil
}

// logRequest records the request and the guard's verdict.
func (h *Handler) logRequest(ctx context.Context, jobID string, inv *talkback.Invocation, id, verdict string) {
	guard := "no guard"
	if inv.Action.When != "" {
		guard = "guard `" + strings.Join(strings.Fields(inv.Action.When), " ") + "`"
	}
	r := run{id: id, inv: inv}
	h.appendLog(ctx, jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: inv.Requester.Name, Via: jobs.ViaSlack,
		Key:    "talkback:" + id + ":requested",
		Text:   fmt.Sprintf("requested `run %s`: %s by %s", inv.Request, verdict, guard),
		Fields: h.fields(r, map[string]string{"phase": "requested", "verdict": verdict})})
}

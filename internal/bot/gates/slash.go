package gates

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Command is a /manual-action invocation, as the socket loop hands it over.
type Command struct {
	UserID      string
	ChannelID   string
	Text        string
	TriggerID   string
	ResponseURL string
}

// Reply is what to show the person who ran a command, ephemerally. An
// empty Reply shows nothing (a modal opened instead).
type Reply struct {
	Text   string
	Blocks []slack.Block
}

// ErrNotHandled says the command is not for this handler: `run …` belongs
// to TalkBack, and the router should pass it on.
var ErrNotHandled = errors.New("gates: command not handled here")

// actVerbs are the command verbs that resolve a gate.
var actVerbs = map[string]jobs.Action{
	"complete": jobs.ActComplete, "fail": jobs.ActFail, "approve": jobs.ActApprove, "reject": jobs.ActReject,
	"resume": jobs.ActResume, "retry": jobs.ActRetry, "skip": jobs.ActSkip, "abort": jobs.ActAbort,
}

// Slash runs a /manual-action command after the socket loop acked it. The
// Reply is always meant to be shown (refusals and usage errors are
// answers, not errors); err is non-nil only for ErrNotHandled and for
// failures worth logging.
func (h *Handler) Slash(ctx context.Context, c Command) (Reply, error) {
	req, err := ParseCommand(c.Text)
	switch {
	case err != nil:
		return Reply{Text: escape(strings.TrimPrefix(err.Error(), ErrUsage.Error()+": "))}, nil
	case req.Verb == "run":
		return Reply{}, ErrNotHandled
	}
	who, err := h.people.Identity(ctx, c.UserID)
	if err != nil {
		return Reply{Text: "Sorry, I could not look you up in Slack; please try again."}, err
	}
	if no := h.people.Refusal(who, slashUse(req.Verb)); no != "" {
		return Reply{Text: no}, nil
	}
	switch req.Verb {
	case "help":
		return Reply{Text: escape(helpText)}, nil
	case "list":
		return h.list(ctx, who)
	}
	jobID, text, problem := h.target(ctx, req, c.ChannelID)
	if problem != "" {
		return Reply{Text: problem}, nil
	}
	switch req.Verb {
	case "show":
		return h.show(ctx, jobID)
	case "reassign":
		return h.reassign(ctx, who, jobID, req.Users)
	}
	if req.BreakGlass != "" {
		return h.breakGlass(ctx, who, jobID, actVerbs[req.Verb], text, req.BreakGlass)
	}
	return h.act(ctx, who, c, jobID, actVerbs[req.Verb], text)
}

// target decides which job a command is about: the one named, or the one
// bound to the channel (then the whole text is the message).
func (h *Handler) target(ctx context.Context, req Request, channel string) (jobID, text, problem string) {
	var bound string
	if channel != "" {
		if j, err := h.svc.JobForChannel(ctx, channel); err == nil {
			bound = j.ID
		}
	}
	if req.Job != "" {
		_, err := h.svc.GetJob(ctx, req.Job)
		switch {
		case err == nil:
			return req.Job, req.Text, ""
		case jobs.ErrorCode(err) != jobs.ENOTFOUND:
			return "", "", h.failureText(err, "get job")
		case bound == "":
			return "", "", fmt.Sprintf("There is no job %q.", req.Job)
		}
	}
	if bound == "" {
		return "", "", escape(fmt.Sprintf("Say which job: `/manual-action %s <job> …` (or run it in the job's channel).", req.Verb))
	}
	return bound, req.All, ""
}

// act resolves the job's open gate; complete on an evidence gate without a
// message opens the evidence modal instead.
func (h *Handler) act(ctx context.Context, who jobs.Identity, c Command, jobID string, a jobs.Action, text string) (Reply, error) {
	r := jobs.Resolution{Action: a, Message: text, SlackUserID: c.UserID, SlackChannelID: c.ChannelID}
	switch {
	case a == jobs.ActFail && text == "":
		return Reply{Text: escape(fmt.Sprintf("Say why: `/manual-action fail %s <reason>`.", jobID))}, nil
	case a == jobs.ActComplete && text == "" && h.needsEvidence(ctx, jobID):
		job, g, problem := h.precheck(ctx, who, jobID, "", a)
		if problem != "" {
			return Reply{Text: problem}, nil
		}
		msg, err := h.showModal(ctx, c.TriggerID, job, g, a)
		return Reply{Text: msg}, err
	case a == jobs.ActComplete && text != "":
		r.Evidence = &jobs.Evidence{Message: text, URL: firstURL(text)}
	}
	job, g, err := h.svc.Resolve(ctx, who, jobs.ViaSlack, jobID, r)
	if err != nil {
		return Reply{Text: h.failureText(err, "resolve")}, nil
	}
	if g.State == jobs.GateOpen {
		return Reply{Text: fmt.Sprintf("Approved *%s* of job %s (%d of %d approvals).", escape(g.Name), jobID,
			len(g.Approvals), g.RequiredApprovals())}, nil
	}
	return Reply{Text: fmt.Sprintf("%s *%s* of job %s; the job is now %s.", outcomeWords(g), escape(g.Name), jobID, job.Status)}, nil
}

// reassign hands the open gate to other people; Slack users become their
// identity names (configured, or slack:<U…>).
func (h *Handler) reassign(ctx context.Context, who jobs.Identity, jobID string, users []string) (Reply, error) {
	names := make([]string, 0, len(users))
	for _, u := range users {
		if people.IsSlackUser(u) {
			id, err := h.people.Identity(ctx, u)
			if err != nil {
				return Reply{Text: "Sorry, I could not look up <@" + u + "> in Slack; please try again."}, err
			}
			u = id.Name
		}
		names = append(names, u)
	}
	_, g, err := h.svc.Reassign(ctx, who, jobs.ViaSlack, jobID, names)
	if err != nil {
		return Reply{Text: h.failureText(err, "reassign")}, nil
	}
	return Reply{Text: fmt.Sprintf("Reassigned *%s* of job %s to %s.", escape(g.Name), jobID, blocksMentions(names))}, nil
}

// show answers the job's current (or last) gate message.
func (h *Handler) show(ctx context.Context, jobID string) (Reply, error) {
	job, err := h.svc.GetJob(ctx, jobID)
	if err != nil {
		return Reply{Text: h.failureText(err, "get job")}, nil
	}
	g := job.OpenGate()
	if g == nil {
		g = job.LastGate()
	}
	if g == nil {
		return Reply{Text: fmt.Sprintf("Job %s (%s) is %s and has no gates.", job.ID, escape(job.Name), job.Status)}, nil
	}
	v := h.view(ctx, job, g)
	return Reply{Text: blocks.Text(v), Blocks: blocks.Message(v)}, nil
}

// list answers the open gates waiting on the person, newest first.
func (h *Handler) list(ctx context.Context, who jobs.Identity) (Reply, error) {
	waiting, err := h.svc.WaitingOn(ctx, who, 0)
	if err != nil {
		return Reply{Text: h.failureText(err, "list")}, err
	}
	if len(waiting) == 0 {
		return Reply{Text: "Nothing is waiting on you. 🎉"}, nil
	}
	lines := []string{fmt.Sprintf("*%d open gates wait on you:*", len(waiting))}
	for i, j := range waiting {
		if i == 20 {
			lines = append(lines, fmt.Sprintf("… and %d more on %s", len(waiting)-20, strings.TrimSuffix(h.url, "/")+"/jobs"))
			break
		}
		g := j.OpenGate()
		lines = append(lines, fmt.Sprintf("• `%s` %s — *%s* (%s)", j.ID, escape(j.Name), escape(g.Name), g.Kind))
	}
	return Reply{Text: strings.Join(lines, "\n")}, nil
}

// RespondSlash posts a Reply to the command's response_url, ephemerally,
// for routers that ack the command first and answer later.
func (h *Handler) RespondSlash(ctx context.Context, c Command, r Reply) error {
	if r.Text == "" && len(r.Blocks) == 0 {
		return nil
	}
	msg := &slack.WebhookMessage{Text: r.Text, ResponseType: slack.ResponseTypeEphemeral}
	if len(r.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: r.Blocks}
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, c.ResponseURL, h.http, msg); err != nil {
		return fmt.Errorf("answer /manual-action: %w", err)
	}
	return nil
}

func outcomeWords(g *jobs.Gate) string {
	if g.Outcome == nil {
		return "Closed"
	}
	return map[jobs.Outcome]string{jobs.OutcomeSuccessful: "✅ Completed", jobs.OutcomeFailure: "❌ Failed",
		jobs.OutcomeApproved: "✅ Approved", jobs.OutcomeRejected: "⛔ Rejected", jobs.OutcomeResumed: "▶️ Resumed",
		jobs.OutcomeRetry: "🔁 Retry chosen for", jobs.OutcomeSkip: "⏭️ Skipped", jobs.OutcomeAbort: "🛑 Aborted"}[*g.Outcome]
}

func blocksMentions(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = blocks.Mention(n, nil)
	}
	return strings.Join(out, ", ")
}

// firstURL finds a link in a command's message, as typed or as Slack
// escapes it (<https://…|label>).
func firstURL(text string) string {
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, "<>")
		w, _, _ = strings.Cut(w, "|")
		if validURL(w) {
			return w
		}
	}
	return ""
}

const helpText = "*/manual-action* — act on cla gates from Slack\n" +
	"• `complete <job> [message]` — mark a manual action done (opens the evidence form when it needs one)\n" +
	"• `fail <job> <reason>` — report that a manual action failed\n" +
	"• `approve <job> [message]`, `reject <job> [message]` — vote on an approval\n" +
	"• `resume <job>` — resume a pause; `retry`, `skip`, `abort <job>` — decide a trap\n" +
	"• `list` — the open gates waiting on you\n" +
	"• `show <job>` — a job's current gate\n" +
	"• `reassign <job> @user…` — hand the open gate to someone else\n" +
	"• `<verb> <job> --break-glass <reason>` — admins only: resolve a gate assigned to others; recorded everywhere\n" +
	"In a job's channel the job id may be left out."

// slashUse is what a /manual-action verb asks of cla, for the
// unknown-user policy: help, list and show read; the rest decide.
func slashUse(verb string) people.Use {
	switch verb {
	case "help", "list", "show":
		return people.Read
	}
	return people.Act
}

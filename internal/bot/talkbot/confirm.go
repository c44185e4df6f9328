package talkbot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
)

// Action ids of the confirm message's buttons; the button value is the
// request id. The router sends block_actions with these ids to Click.
const (
	ActionConfirm = "talkback_confirm"
	ActionCancel  = "talkback_cancel"
)

// PendingTTL is how long a request waits for its second person. Pending
// requests are kept in the store (jobs.ChatState), so a click reaching any
// replica, or a restarted one, finds them; a settled or expired request is
// kept PendingTTL longer to answer late clicks, then pruned.
const PendingTTL = 15 * time.Minute

// Click is one press of a confirm message's button, as the router hands it
// over after acking.
type Click struct {
	UserID    string
	ChannelID string
	MessageTS string
	ActionID  string // ActionConfirm or ActionCancel
	Value     string // the request id
}

// pending is a stored request waiting for a second person, with its action
// as the allowlist has it now.
type pending struct {
	id      string
	jobID   string
	channel string
	thread  string // where the result goes; the confirm message when ""
	msgTS   string // the confirm message
	inv     *talkback.Invocation
}

// pendingOf rebuilds a request from its stored record. An action no longer
// in the allowlist keeps its name only: recheck then refuses it.
func (h *Handler) pendingOf(rec jobs.Confirmation, msgTS string) pending {
	act := &talkback.Action{Name: rec.Action}
	if list := h.allowlist(); list != nil {
		if a, ok := list.Lookup(rec.Action); ok {
			act = a
		}
	}
	thread := rec.Thread
	if thread == "" {
		thread = msgTS
	}
	return pending{id: rec.ID, jobID: rec.JobID, channel: rec.Channel, thread: thread, msgTS: msgTS,
		inv: &talkback.Invocation{Action: act, Request: talkback.Request{Action: rec.Action, Args: rec.Args},
			Argv: rec.Argv, Requester: talkback.User{ID: rec.Requester, Name: rec.RequesterName}}}
}

// askConfirm stores the request, then posts the confirm message.
func (h *Handler) askConfirm(ctx context.Context, req Request, job *jobs.Job, inv *talkback.Invocation) error {
	now := h.now()
	rec := jobs.Confirmation{ID: newRequestID(), JobID: job.ID, Channel: req.ChannelID, Thread: req.thread(),
		Requester: inv.Requester.ID, RequesterName: inv.Requester.Name, Action: inv.Action.Name,
		Args: inv.Request.Args, Argv: inv.Argv, CreatedAt: now, Expires: now.Add(PendingTTL)}
	h.prune(ctx, now)
	// Stored before posting: a click may come back, to any replica,
	// before PostMessage returns.
	if err := h.state.PutConfirmation(ctx, rec); err != nil {
		_ = h.tell(ctx, req.ChannelID, req.UserID, "⚠️ Nothing was run: I could not keep the confirmation request; please try again.")
		return fmt.Errorf("store talkback confirmation: %w", err)
	}
	p := pending{id: rec.ID, jobID: job.ID, channel: req.ChannelID, thread: rec.Thread, inv: inv}
	h.logRequest(ctx, job.ID, inv, p.id, "allowed, waiting for confirmation")
	opts := []slack.MsgOption{slack.MsgOptionText("Confirm TalkBack run: "+escape(inv.CommandLine()), false),
		slack.MsgOptionBlocks(confirmBlocks(&p, "")...)}
	if p.thread != "" {
		opts = append(opts, slack.MsgOptionTS(p.thread))
	}
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, _, err := h.api.PostMessageContext(ctx, p.channel, opts...)
		return err
	})
	if err != nil {
		h.claim(context.WithoutCancel(ctx), p.id, "not posted")
		_ = h.tell(ctx, req.ChannelID, req.UserID, "⚠️ Nothing was run: I could not post the confirmation request.")
		return fmt.Errorf("post talkback confirmation: %w", err)
	}
	h.metrics.requests.WithLabelValues("pending").Inc()
	return nil
}

// Click handles the confirm message's buttons. Whatever the clicker cannot
// do is answered to them alone; a request runs at most once, however many
// people click at the same time and whichever replicas get the clicks.
func (h *Handler) Click(ctx context.Context, c Click) error {
	if c.ActionID != ActionConfirm && c.ActionID != ActionCancel {
		return nil
	}
	rec, err := h.state.Confirmation(ctx, c.Value)
	switch {
	case jobs.ErrorCode(err) == jobs.ENOTFOUND:
		return h.gone(ctx, c)
	case err != nil:
		_ = h.tell(ctx, c.ChannelID, c.UserID, "Sorry, I could not read this request; nothing was run. Please try again.")
		return fmt.Errorf("read talkback confirmation %s: %w", c.Value, err)
	case rec.Channel != c.ChannelID:
		return h.tell(ctx, c.ChannelID, c.UserID, "This button does not belong to a request in this channel.")
	case rec.Outcome != "":
		return h.tell(ctx, c.ChannelID, c.UserID, settledText(rec))
	case !h.now().Before(rec.Expires):
		return h.gone(ctx, c)
	}
	p := h.pendingOf(rec, c.MessageTS)
	who := h.user(ctx, c.UserID)
	if no := h.people.Refusal(who, people.Act); no != "" {
		return h.tell(ctx, c.ChannelID, c.UserID, "⚠️ "+no)
	}
	clicker := talkbackUser(c.UserID, who)
	confirm := p.inv.Action.Confirm
	if c.ActionID == ActionCancel {
		if c.UserID != p.inv.Requester.ID && !confirm.CanConfirm(p.inv.Requester, clicker) {
			return h.tell(ctx, c.ChannelID, c.UserID, "Only the requester or someone who may confirm it can cancel this run.")
		}
		return h.settle(ctx, c, p, who, ending{line: "🚫 Cancelled by <@" + c.UserID + ">",
			what: "cancelled by <@" + c.UserID + ">", phase: "cancelled"})
	}
	if c.UserID == p.inv.Requester.ID {
		return h.tell(ctx, c.ChannelID, c.UserID, "A second person must confirm: you asked for this run, so someone else has to click Confirm.")
	}
	if !confirm.CanConfirm(p.inv.Requester, clicker) {
		return h.tell(ctx, c.ChannelID, c.UserID, "Only members of "+strings.Join(confirm.Groups, " or ")+" may confirm this run.")
	}
	return h.confirm(ctx, c, p, who)
}

// confirm checks the request again against the job as it is now, then
// claims it and runs it.
func (h *Handler) confirm(ctx context.Context, c Click, p pending, who jobs.Identity) error {
	fresh, reason := h.recheck(ctx, p)
	if reason != "" {
		// The reason is plain text that may quote values (arguments, the
		// job's context): escaped for Slack, kept as it is for the log.
		return h.settle(ctx, c, p, who, ending{line: "⚠️ Not run: " + escape(reason), what: "refused: " + escape(reason),
			phase: "refused_on_confirm", reason: reason})
	}
	if rec, ok := h.claim(ctx, p.id, "confirmed by <@"+c.UserID+">"); !ok {
		return h.tell(ctx, c.ChannelID, c.UserID, settledText(rec))
	}
	p.inv.Requester = fresh.Requester
	h.update(ctx, c, p, "✅ Confirmed by <@"+c.UserID+">")
	h.appendLog(ctx, p.jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: who.Name, Via: jobs.ViaSlack,
		Key: "talkback:" + p.id + ":confirmed", Text: "confirmed " + fresh.CommandLine(),
		Fields: h.fields(run{id: p.id, inv: fresh, approver: &who}, map[string]string{"phase": "confirmed", "verdict": "allowed"})})
	return h.execute(ctx, run{id: p.id, jobID: p.jobID, channel: p.channel, thread: p.thread, inv: fresh,
		approver: &who, approverSlack: c.UserID})
}

// recheck prepares the request again with the job's current state: the
// guard must still allow it and the command must be the one shown. The
// reason it refuses is plain text (not yet escaped for Slack).
func (h *Handler) recheck(ctx context.Context, p pending) (*talkback.Invocation, string) {
	list := h.allowlist()
	if list == nil {
		return nil, "TalkBack is not configured on this server any more."
	}
	job, err := h.svc.GetJob(ctx, p.jobID)
	if err != nil {
		h.log.Warn("reread job for talkback confirm", "job", p.jobID, "err", err)
		return nil, "the job could not be read: " + jobs.ErrorMessage(err)
	}
	fresh, err := list.Prepare(p.inv.Request, h.env(ctx, job, p.inv.Requester.ID, p.channel))
	if err != nil {
		if r, ok := talkback.IsRefusal(err); ok {
			return nil, r.Reason + " (checked again at confirmation)"
		}
		h.log.Error("prepare talkback request on confirm", "job", p.jobID, "err", err)
		return nil, "it could not be prepared again; the server log has the details"
	}
	if !slices.Equal(fresh.Argv, p.inv.Argv) {
		return nil, "the command changed since it was requested (now `" + strings.ReplaceAll(fresh.CommandLine(), "`", "'") + "`); ask again"
	}
	return fresh, ""
}

// ending is how a request ends without running: the line the confirm
// message shows, what late clickers are told, and the log phase.
type ending struct {
	line, what, phase, reason string
}

// settle ends a request without running it (cancel, refused on confirm).
func (h *Handler) settle(ctx context.Context, c Click, p pending, who jobs.Identity, e ending) error {
	if rec, ok := h.claim(ctx, p.id, e.what); !ok {
		return h.tell(ctx, c.ChannelID, c.UserID, settledText(rec))
	}
	h.update(ctx, c, p, e.line)
	h.appendLog(ctx, p.jobID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: who.Name, Via: jobs.ViaSlack,
		Key:    "talkback:" + p.id + ":" + e.phase,
		Text:   strings.TrimSuffix(fmt.Sprintf("%s by %s: %s; %s", strings.ReplaceAll(e.phase, "_", " "), who.Name, p.inv.CommandLine(), e.reason), "; "),
		Fields: h.fields(run{id: p.id, inv: p.inv}, map[string]string{"phase": e.phase, "by": who.Name})})
	if e.phase != "cancelled" {
		return h.tell(ctx, c.ChannelID, c.UserID, e.line)
	}
	return nil
}

// gone answers a click on a request that expired or was never stored.
func (h *Handler) gone(ctx context.Context, c Click) error {
	if c.MessageTS != "" {
		h.rewrite(ctx, c.ChannelID, c.MessageTS, "⌛ Expired: this request is no longer pending.")
	}
	return h.tell(ctx, c.ChannelID, c.UserID, "This request is no longer pending (it expired after "+
		PendingTTL.String()+"). Ask again with `@cla run …`.")
}

// claim settles a request with what; only the first caller of all
// replicas gets true, which is what makes a request run at most once. A
// loser gets the record as it stands, to say how it ended.
func (h *Handler) claim(ctx context.Context, id, what string) (jobs.Confirmation, bool) {
	rec, err := h.state.SettleConfirmation(ctx, id, what, h.now())
	if err != nil {
		if code := jobs.ErrorCode(err); code != jobs.ECONFLICT && code != jobs.ENOTFOUND {
			h.log.Error("settle talkback confirmation", "request", id, "err", err)
		}
		return rec, false
	}
	return rec, true
}

// settledText says how a request already ended.
func settledText(rec jobs.Confirmation) string {
	if rec.Outcome == "" {
		return "This request is no longer pending."
	}
	return "This request was already " + rec.Outcome + "."
}

// prune deletes requests that ended or expired more than PendingTTL ago.
// It runs with every new request, so the store stays bounded without a
// timer of its own.
func (h *Handler) prune(ctx context.Context, now time.Time) {
	if _, err := h.state.PruneConfirmations(ctx, now.Add(-PendingTTL)); err != nil {
		h.log.Warn("prune talkback confirmations", "err", err)
	}
}

// update rewrites the confirm message with its outcome, buttons removed.
func (h *Handler) update(ctx context.Context, c Click, p pending, line string) {
	ts := p.msgTS
	if ts == "" {
		ts = c.MessageTS
	}
	p.msgTS = ts
	h.rewriteBlocks(ctx, p.channel, ts, line+": "+escape(p.inv.CommandLine()), confirmBlocks(&p, line))
}

// rewrite replaces a message by one line of text and no buttons.
func (h *Handler) rewrite(ctx context.Context, channel, ts, line string) {
	h.rewriteBlocks(ctx, channel, ts, line, []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, line, false, false), nil, nil)})
}

func (h *Handler) rewriteBlocks(ctx context.Context, channel, ts, text string, blocks []slack.Block) {
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, _, _, err := h.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false),
			slack.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		h.log.Warn("confirm message not updated", "channel", channel, "ts", ts, "err", err)
	}
}

// confirmBlocks is the confirm message: the command line and, while the
// request is pending (outcome ""), Confirm and Cancel buttons.
func confirmBlocks(p *pending, outcome string) []slack.Block {
	inv := p.inv
	cmd, _ := clipOutput(inv.CommandLine(), 2000)
	text := fmt.Sprintf("<@%s> asks to run *%s* on job *%s*:\n%s", inv.Requester.ID, escape(inv.Action.Name),
		escape(p.jobID), codeBlock(cmd))
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)}
	if outcome != "" {
		return append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, outcome, false, false)))
	}
	who := "A second person must confirm"
	if g := inv.Action.Confirm.Groups; len(g) > 0 {
		who += " (a member of " + escape(strings.Join(g, " or ")) + ")"
	}
	note := fmt.Sprintf("%s within %s.", who, PendingTTL)
	ok := slack.NewButtonBlockElement(ActionConfirm, p.id, slack.NewTextBlockObject(slack.PlainTextType, "Confirm and run", false, false)).
		WithStyle(slack.StylePrimary)
	cancel := slack.NewButtonBlockElement(ActionCancel, p.id, slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false)).
		WithStyle(slack.StyleDanger)
	return append(blocks,
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)),
		slack.NewActionBlock("talkback/"+p.id, ok, cancel))
}

// newRequestID names one request in button values, log keys and file names.
func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

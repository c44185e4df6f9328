package gates

import (
	"context"
	"errors"
	"fmt"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Notifier is the jobs.Notifier for channel type "slack": it announces a
// gate, threads reminders, escalations and reassignments under the
// announcement, and has the Announcer rewrite the announcements once the
// gate is resolved (the durable path: retried until Slack takes it).
type Notifier struct{ *core }

var _ jobs.Notifier = (*Notifier)(nil)

// NewNotifier builds the Slack notifier; register it with the outbox under
// "slack".
func NewNotifier(cfg Config) *Notifier { return &Notifier{newCore(cfg)} }

// Notify delivers one notification. It is safe to call again after any
// failure: an announcement already recorded for the channel is not posted
// twice, and updates are idempotent.
func (n *Notifier) Notify(ctx context.Context, nt jobs.Notification, job *jobs.Job) error {
	g := job.Gate(nt.GateID)
	if g == nil {
		n.log.Warn("notification for unknown gate; dropped", "job", job.ID, "gate", nt.GateID, "event", nt.Event)
		return nil
	}
	switch nt.Event {
	case jobs.NotifyGateOpened:
		_, err := n.announce(ctx, job, g, nt.Channel.ChannelID)
		return err
	case jobs.NotifyReminder, jobs.NotifyEscalated, jobs.NotifyReassigned:
		return n.nudge(ctx, job, g, nt)
	case jobs.NotifyGateResolved:
		return n.ann.Sync(ctx, job.ID, g.ID)
	case jobs.NotifyBreakGlass:
		return n.breakGlass(ctx, job, g, nt.Channel.ChannelID)
	}
	n.log.Debug("notification event not for slack; settled", "event", nt.Event)
	return nil
}

// announce posts the gate message to a channel once and records it, so
// later updates find it. It returns the announcement.
func (n *Notifier) announce(ctx context.Context, job *jobs.Job, g *jobs.Gate, channel string) (jobs.MessageRef, error) {
	if ref, ok := refIn(g, channel); ok {
		return ref, nil
	}
	if channel == "" {
		return jobs.MessageRef{}, n.undeliverable(ctx, job, g, "no Slack channel id")
	}
	if ref, ok := n.adopt(ctx, job, g, channel); ok {
		return ref, n.record(ctx, job, g, ref)
	}
	v := n.view(ctx, job, g)
	text, bl := blocks.Text(v), blocks.Message(v)
	ch, ts, err := n.post(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(bl...),
		announceMetadata(job.ID, g.ID))
	if blockKitRefused(err) {
		ch, ts, err = n.postPlain(ctx, job, g, channel, err)
	}
	if gone(err) || code(err) == "not_in_channel" {
		return jobs.MessageRef{}, n.undeliverable(ctx, job, g, fmt.Sprintf("cannot post to %s: %v", channel, err))
	}
	if err != nil {
		return jobs.MessageRef{}, slackError("chat.postMessage", err)
	}
	ref := jobs.MessageRef{Channel: ch, TS: ts}
	n.ann.Posted(ref, text, bl)
	return ref, n.record(ctx, job, g, ref)
}

// record files the announcement on the gate, so later updates find it.
func (n *Notifier) record(ctx context.Context, job *jobs.Job, g *jobs.Gate, ref jobs.MessageRef) error {
	if err := n.svc.RecordMessage(ctx, job.ID, g.ID, ref); err != nil {
		return fmt.Errorf("record announcement of %s/%s: %w", job.ID, g.ID, err)
	}
	n.ann.remember(gateKey{job.ID, g.ID}) // a resync covers it even before its first rewrite
	return n.catchUp(ctx, job.ID, g)
}

// post sends a message; a public channel the bot is not in is joined once.
func (n *Notifier) post(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	ch, ts, err := n.api.PostMessageContext(ctx, channel, opts...)
	if code(err) != "not_in_channel" {
		return ch, ts, err
	}
	if _, _, _, jerr := n.api.JoinConversationContext(ctx, channel); jerr != nil {
		return ch, ts, err
	}
	return n.api.PostMessageContext(ctx, channel, opts...)
}

// catchUp closes the race with a resolution that happened while the
// announcement was being posted: its gate_resolved update may have run
// before the announcement was recorded.
func (n *Notifier) catchUp(ctx context.Context, jobID string, posted *jobs.Gate) error {
	if posted.State != jobs.GateOpen {
		return nil
	}
	job, err := n.svc.GetJob(ctx, jobID)
	if err != nil {
		return fmt.Errorf("reread job %s: %w", jobID, err)
	}
	if g := job.Gate(posted.ID); g != nil && g.State != jobs.GateOpen {
		return n.ann.Sync(ctx, job.ID, g.ID)
	}
	return nil
}

// nudge threads a reminder, escalation or reassignment under the channel's
// announcement (posting the announcement first if there is none) and, for
// a reassignment, rewrites the announcement with the new assignees.
func (n *Notifier) nudge(ctx context.Context, job *jobs.Job, g *jobs.Gate, nt jobs.Notification) error {
	if g.State != jobs.GateOpen {
		return nil
	}
	ref, err := n.announce(ctx, job, g, nt.Channel.ChannelID)
	if err != nil || ref.TS == "" {
		return err
	}
	v := n.view(ctx, job, g)
	for k, id := range n.people.SlackIDs(ctx, nt.Assignees) {
		v.SlackIDs[k] = id
	}
	if !n.nudgedBefore(ctx, ref, nt) {
		_, _, err = n.api.PostMessageContext(ctx, ref.Channel, slack.MsgOptionTS(ref.TS),
			slack.MsgOptionText(blocks.Nudge(v, nt.Event, nt.Assignees), false), nudgeMetadata(nt.ID))
		if err != nil && !gone(err) {
			return slackError("chat.postMessage", err)
		}
	}
	if nt.Event != jobs.NotifyReminder { // the assignees changed
		return n.ann.Sync(ctx, job.ID, g.ID)
	}
	return nil
}

// undeliverable gives up on a Slack announcement that can never be made:
// retrying a missing channel would never end. The outbox drops it, counts
// it and says why in the job log.
func (n *Notifier) undeliverable(_ context.Context, job *jobs.Job, g *jobs.Gate, why string) error {
	n.log.Warn("slack announcement undeliverable", "job", job.ID, "gate", g.ID, "why", why)
	return &jobs.PermanentError{Err: errors.New("slack announcement of " + g.Name + ": " + why)}
}

// refIn returns the gate's announcement in a channel.
func refIn(g *jobs.Gate, channel string) (jobs.MessageRef, bool) {
	for _, m := range g.Messages {
		if m.Channel == channel {
			return m, true
		}
	}
	return jobs.MessageRef{}, false
}

// breakGlass tells a channel that an admin overrode a gate: a reply in the
// thread of the gate's announcement there, or a message of its own.
func (n *Notifier) breakGlass(ctx context.Context, job *jobs.Job, g *jobs.Gate, channel string) error {
	if channel == "" || g.BreakGlass == nil {
		return nil
	}
	text := blocks.BreakGlassNotice(job, g, n.people.SlackIDs(ctx, []string{g.BreakGlass.By}))
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if ref, ok := refIn(g, channel); ok {
		opts = append(opts, slack.MsgOptionTS(ref.TS))
	}
	_, _, err := n.post(ctx, channel, opts...)
	if gone(err) || code(err) == "not_in_channel" {
		return n.undeliverable(ctx, job, g, fmt.Sprintf("cannot post to %s: %v", channel, err))
	}
	if err != nil {
		return slackError("chat.postMessage", err)
	}
	return nil
}

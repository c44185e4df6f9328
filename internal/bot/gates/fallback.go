package gates

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// blockKitRefused reports whether Slack refused a message for its blocks or
// for a permission the interactive message needs (the RFC's open question
// 5): a plain-text message may still get through.
func blockKitRefused(err error) bool {
	switch code(err) {
	case "invalid_blocks", "invalid_blocks_format", "missing_scope", "invalid_arguments",
		"msg_blocks_too_long", "too_many_blocks", "no_permission", "not_allowed_token_type":
		return true
	}
	return false
}

// postPlain posts the gate's announcement as plain text with the job's link,
// after Slack refused the Block Kit one, and says why in the server log and
// the job log.
func (n *Notifier) postPlain(ctx context.Context, job *jobs.Job, g *jobs.Gate, channel string, why error) (string, string, error) {
	n.log.Warn("slack refused the interactive announcement; posting plain text", "job", job.ID, "gate", g.ID,
		"channel", channel, "slack_error", code(why))
	v := n.view(ctx, job, g)
	ch, ts, err := n.post(ctx, channel, slack.MsgOptionText(blocks.PlainText(v), false), announceMetadata(job.ID, g.ID))
	if err != nil {
		return ch, ts, err
	}
	text := fmt.Sprintf("Slack refused the interactive message for %s in %s (%s); posted plain text with the job link instead",
		g.Name, channel, code(why))
	entry := jobs.LogEntry{Kind: jobs.LogNotify, Actor: jobs.System.Name, Gate: g.ID, Text: text,
		Fields: map[string]string{"channel": "slack", "outcome": "fallback", "slack_error": code(why)},
		Key:    "slack-fallback:" + g.ID + ":" + channel}
	if _, lerr := n.svc.AppendLog(ctx, job.ID, []jobs.LogEntry{entry}); lerr != nil {
		n.log.Error("log slack fallback", "job", job.ID, "err", lerr)
	}
	return ch, ts, nil
}

package bot

import (
	"github.com/cla-ops/cla/internal/slacktext"

	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// maxRelayText keeps a relayed annotation well inside one Slack message.
const maxRelayText = 2900

// relay posts the text annotations (comments and logs) made through other
// doors — a pipeline's step lines from `cla run`, a comment from the web
// monitor — into the job's bound channels, so that a channel watches its
// run live. It is best effort: events are hints and the job log is the
// record. Annotations made in Slack are not echoed back, and files (such as
// a workflow's saved state) are not posted. When it falls behind, the
// annotations it missed are counted (cla_events_dropped_total) and logged
// with how many; the job log and the monitor still show them.
func (b *Bot) relay(ctx context.Context) {
	sub := b.svc.Broker().Subscribe("slack-relay", 256)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-sub.Events:
			b.relayEvent(ctx, e)
		case <-sub.Resync:
			b.log.Warn("relay fell behind; some annotations were not posted to their channels (they are in the job log)",
				"dropped", sub.Dropped())
		}
	}
}

func (b *Bot) relayEvent(ctx context.Context, e jobs.Event) {
	if e.Job == nil || len(e.Job.Channels) == 0 {
		return
	}
	for _, entry := range e.Entries {
		kind := entry.Fields["annotationKind"]
		if entry.Kind != jobs.LogAnnotation || entry.Via == jobs.ViaSlack ||
			(kind != jobs.AnnotationComment && kind != jobs.AnnotationLog) {
			continue
		}
		text := relayText(entry)
		for _, ch := range e.Job.Channels {
			if err := b.post(ctx, ch.ID, text); err != nil && ctx.Err() == nil {
				b.log.Warn("relay annotation", "job", e.Job.ID, "channel", ch.ID, "err", err)
			}
		}
	}
}

// relayText is how an annotation reads in the channel.
func relayText(e jobs.LogEntry) string {
	who := fmt.Sprintf("_%s via %s_", slackEscape(e.Actor), e.Via)
	text := e.Text
	if len(text) > maxRelayText {
		text = text[:maxRelayText] + "…"
	}
	if e.Fields["annotationKind"] == jobs.AnnotationLog {
		return fmt.Sprintf("📝 %s:\n```%s```", who, slackEscape(text))
	}
	return fmt.Sprintf("💬 %s: %s", who, slackEscape(text))
}

// slackEscape escapes the three characters Slack's text format reserves.
func slackEscape(s string) string { return slacktext.Escape(s) }

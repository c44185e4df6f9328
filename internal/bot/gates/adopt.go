package gates

import (
	"context"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// AnnounceEventType is the Slack message metadata event_type of a gate
// announcement; its event_payload names the job and the gate
// ({"job_id": …, "gate_id": …}). A later attempt finds an earlier post by
// it (see adopt).
const AnnounceEventType = "cla_gate_announced"

// NudgeEventType is the metadata event_type of a reminder, escalation or
// reassignment note threaded under an announcement; its event_payload
// names the notification ({"notification_id": …}).
const NudgeEventType = "cla_gate_nudged"

// How far back adopt looks: pages of history (newest first) and the
// margin before the gate opened, for clocks that disagree.
const (
	adoptPages    = 5
	adoptPageSize = 200
	adoptSkew     = 10 * time.Minute
)

// announceMetadata marks an announcement so that it can be found again.
func announceMetadata(jobID, gateID string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: AnnounceEventType,
		EventPayload: map[string]any{"job_id": jobID, "gate_id": gateID}})
}

// adopt closes most of the window between Slack accepting an announcement
// and cla recording its ts: a replica killed (or a reply lost) in between
// leaves the notification to be delivered again. The first attempt spends
// a durable key before posting; an attempt that finds it spent looks in
// the channel's recent history for a message with this gate's metadata
// and, when it finds one, returns it to be recorded instead of posting
// again. A history that cannot be read costs a possible duplicate rather
// than a missing announcement.
func (n *Notifier) adopt(ctx context.Context, job *jobs.Job, g *jobs.Gate, channel string) (jobs.MessageRef, bool) {
	first, err := n.svc.Store().Once(ctx, "slack-announce:"+job.ID+":"+g.ID+":"+channel)
	if err != nil {
		n.log.Warn("could not mark the announcement attempt; looking for an earlier post", "job", job.ID, "gate", g.ID, "err", err)
	} else if first {
		return jobs.MessageRef{}, false
	}
	ref, found, err := n.findAnnouncement(ctx, channel, job.ID, g.ID, g.OpenedAt.Add(-adoptSkew))
	if err != nil {
		n.log.Warn("could not look for an earlier announcement; posting it (it may show twice)",
			"job", job.ID, "gate", g.ID, "channel", channel, "err", err)
		return jobs.MessageRef{}, false
	}
	if found {
		n.log.Info("adopted an earlier announcement instead of posting again", "job", job.ID, "gate", g.ID,
			"channel", channel, "ts", ref.TS)
	}
	return ref, found
}

// findAnnouncement reads the channel's history since oldest, newest first,
// for the gate's announcement, at most adoptPages pages.
// Only this app's own messages count: another app in the channel could
// post the same metadata.
func (n *Notifier) findAnnouncement(ctx context.Context, channel, jobID, gateID string, oldest time.Time) (jobs.MessageRef, bool, error) {
	self, err := n.botID(ctx)
	if err != nil {
		return jobs.MessageRef{}, false, err
	}
	p := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: adoptPageSize, IncludeAllMetadata: true}
	if oldest.After(time.Unix(0, 0)) {
		p.Oldest = fmt.Sprintf("%d.000000", oldest.Unix())
	}
	for range adoptPages {
		res, err := n.api.GetConversationHistoryContext(ctx, p)
		if err != nil {
			return jobs.MessageRef{}, false, slackError("conversations.history", err)
		}
		for _, m := range res.Messages {
			md := m.Metadata
			if m.BotID == self && md.EventType == AnnounceEventType && md.EventPayload["job_id"] == jobID && md.EventPayload["gate_id"] == gateID {
				return jobs.MessageRef{Channel: channel, TS: m.Timestamp}, true, nil
			}
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			break
		}
		p.Cursor = res.ResponseMetaData.NextCursor
	}
	return jobs.MessageRef{}, false, nil
}

// nudgeMetadata marks a threaded note with the notification it delivers.
func nudgeMetadata(notificationID string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: NudgeEventType,
		EventPayload: map[string]any{"notification_id": notificationID}})
}

// nudgedBefore reports whether an earlier attempt of this notification
// already threaded its note under the announcement: the same durable key
// and metadata search as adopt, in the thread (conversations.replies). An
// unreadable thread answers false, so the note is posted (maybe twice)
// rather than lost.
func (n *Notifier) nudgedBefore(ctx context.Context, ref jobs.MessageRef, nt jobs.Notification) bool {
	first, err := n.svc.Store().Once(ctx, "slack-nudge:"+nt.ID)
	if err == nil && first {
		return false
	}
	self, err := n.botID(ctx)
	if err != nil {
		n.log.Warn("could not look for an earlier note; posting it (it may show twice)", "notification", nt.ID, "err", err)
		return false
	}
	p := &slack.GetConversationRepliesParameters{ChannelID: ref.Channel, Timestamp: ref.TS, Limit: adoptPageSize,
		IncludeAllMetadata: true}
	for range adoptPages {
		msgs, more, next, err := n.api.GetConversationRepliesContext(ctx, p)
		if err != nil {
			n.log.Warn("could not look for an earlier note; posting it (it may show twice)", "notification", nt.ID, "err", err)
			return false
		}
		for _, m := range msgs {
			if m.BotID == self && m.Metadata.EventType == NudgeEventType && m.Metadata.EventPayload["notification_id"] == nt.ID {
				n.log.Info("an earlier attempt posted this note; not posting it again", "notification", nt.ID, "ts", m.Timestamp)
				return true
			}
		}
		if !more || next == "" {
			break
		}
		p.Cursor = next
	}
	return false
}

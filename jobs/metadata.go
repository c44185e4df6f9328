package jobs

import (
	"context"
	"errors"
	"time"
)

// Metadata keys of ctrlplane's manual-action RFC, kept on the job so that a
// pipeline reading ctrlplane's shape finds them where it expects.
const (
	MetaName            = "manual-action/name"
	MetaDescription     = "manual-action/description"
	MetaRequireEvidence = "manual-action/require-evidence"
	MetaCompletedBy     = "manual-action/completed-by"
	MetaCompletedAt     = "manual-action/completed-at"
	MetaCompletedVia    = "manual-action/completed-via"
	MetaEvidence        = "manual-action/evidence"
	MetaSlackUserID     = "manual-action/slack-user-id"
	MetaSlackChannelID  = "manual-action/slack-channel-id"
)

// completionKeys are the keys a completion writes; a new manual action
// clears them so they never describe an earlier one.
var completionKeys = []string{MetaCompletedBy, MetaCompletedAt, MetaCompletedVia, MetaEvidence,
	MetaSlackUserID, MetaSlackChannelID}

// noteOpened records an opened manual action in the job's metadata, as
// ctrlplane's dispatch does: its name, rendered description and whether
// evidence is required.
func (j *Job) noteOpened(g *Gate) {
	if g.Kind != KindAction {
		return
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{}
	}
	for _, k := range append(completionKeys, MetaRequireEvidence) {
		delete(j.Metadata, k)
	}
	j.Metadata[MetaName] = g.Name
	j.Metadata[MetaDescription] = g.Description
	if g.RequireEvidence {
		j.Metadata[MetaRequireEvidence] = "true"
	}
}

// noteCompleted records who ended a manual action, when, through which
// door and with what evidence, and sets the job's message the way
// ctrlplane's RFC words it.
func (j *Job) noteCompleted(g *Gate, actor Identity, via string, o Outcome, r Resolution, now time.Time) {
	if g.Kind != KindAction {
		return
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{}
	}
	j.Metadata[MetaCompletedBy] = actor.Name
	j.Metadata[MetaCompletedAt] = now.UTC().Format(time.RFC3339)
	j.Metadata[MetaCompletedVia] = via
	if ev := r.Evidence; !ev.Empty() {
		j.Metadata[MetaEvidence] = evidenceText(ev)
	}
	if r.SlackUserID != "" {
		j.Metadata[MetaSlackUserID] = r.SlackUserID
	}
	if r.SlackChannelID != "" {
		j.Metadata[MetaSlackChannelID] = r.SlackChannelID
	}
	j.Message = completionMessage(g, actor, via, o, r.Message)
}

// completionMessage is the job's message after a manual action ends: the
// person's own words when they gave some, else the RFC's "Completed by jane
// via Slack" / "Reported as failed by jane via Slack", or "manual action
// timed out after PT24H".
func completionMessage(g *Gate, actor Identity, via string, o Outcome, msg string) string {
	switch {
	case o == OutcomeTimedOut:
		return "manual action timed out after " + g.Timeout
	case msg != "":
		return msg
	case o == OutcomeFailure:
		return "Reported as failed by " + actor.Name + " via " + doorName(via)
	}
	return "Completed by " + actor.Name + " via " + doorName(via)
}

// evidenceText is evidence as one string, as ctrlplane stores it: the URL,
// the message, or both.
func evidenceText(ev *Evidence) string {
	switch {
	case ev.URL == "":
		return ev.Message
	case ev.Message == "":
		return ev.URL
	}
	return ev.Message + " " + ev.URL
}

// doorName is how a door reads in a sentence.
func doorName(via string) string {
	switch via {
	case ViaSlack:
		return "Slack"
	case ViaAPI:
		return "API"
	case ViaCLI:
		return "CLI"
	}
	return via
}

func cloneStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// DeliveryFailed sets the job's message to the RFC's "notification
// delivery failed: …" while the job waits on a gate, so that whoever looks
// at the job sees why nobody came. The outbox calls it; the notification is
// still retried unless the failure was permanent.
func (s *Service) DeliveryFailed(ctx context.Context, jobID, reason string) error {
	msg := "notification delivery failed: " + reason
	_, _, err := s.change(ctx, jobID, by(EventJobUpdated, System, ""), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if j.Status.Terminal() || j.OpenGate() == nil || j.Message == msg {
			return nil, errUnchanged
		}
		j.Message = msg
		return nil, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

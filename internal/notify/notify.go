// Package notify delivers cla's notifications: the durable outbox worker
// that drains jobs.Store's outbox in order per channel with retries, the
// email (SMTP) and signed-webhook notifiers, and the signed, expiring
// callback tokens a webhook receiver uses to complete a gate.
//
// Delivery is at least once: a notification is settled only after its
// notifier returned, so a crash in between sends it again. Every message
// carries the notification id (webhook field and header, email header and
// Message-ID) so that receivers can drop the duplicate.
package notify

import (
	"net/url"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// subjectLine says what a notification event asks of people, for email
// subjects and webhook consumers that show text.
func subjectLine(event string, g *jobs.Gate) string {
	switch event {
	case jobs.NotifyReminder:
		return "Reminder: " + requiredText(g)
	case jobs.NotifyEscalated:
		return "Escalated: " + requiredText(g)
	case jobs.NotifyReassigned:
		return "Reassigned: " + requiredText(g)
	case jobs.NotifyBreakGlass:
		return "Break-glass override"
	}
	return requiredText(g)
}

func requiredText(g *jobs.Gate) string {
	switch g.Kind {
	case jobs.KindApproval:
		return "Approval required"
	case jobs.KindPause:
		return "Paused, resume required"
	case jobs.KindTrap:
		return "Decision required"
	}
	return "Action required"
}

// actionable reports whether a notification still asks something of
// people: the gate is open and the event is one that announces it. Email
// and webhook skip the rest (a reminder queued just before the gate closed).
func actionable(n jobs.Notification, job *jobs.Job) (*jobs.Gate, bool) {
	switch n.Event {
	case jobs.NotifyGateOpened, jobs.NotifyReminder, jobs.NotifyEscalated, jobs.NotifyReassigned:
	case jobs.NotifyBreakGlass:
		// An override tells the assignees what happened to their gate.
		g := job.Gate(n.GateID)
		return g, g != nil && g.BreakGlass != nil
	default:
		return nil, false
	}
	g := job.Gate(n.GateID)
	if g == nil || g.State != jobs.GateOpen {
		return nil, false
	}
	return g, true
}

// jobURL is the monitor page of a job: <public-url>/jobs/<id>.
func jobURL(publicURL, jobID string) string {
	return strings.TrimRight(publicURL, "/") + "/jobs/" + url.PathEscape(jobID)
}

// redactURL keeps the scheme and host of a URL: webhook URLs may carry
// credentials in their path or query, which must not reach logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

package bot

import (
	"github.com/cla-ops/cla/internal/slacktext"

	"fmt"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// jobSummary is the plain mrkdwn summary of a job posted when a channel is
// bound and answered to "@cla status". Pure, so it is tested as text.
func jobSummary(j *jobs.Job, publicURL string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%s* · %s — status `%s`", escape(j.ID), escape(j.Name), j.Status)
	if g := j.OpenGate(); g != nil {
		fmt.Fprintf(&sb, "\nOpen %s gate %s: *%s*", g.Kind, g.ID, escape(g.Name))
		if len(g.Assignees) > 0 {
			fmt.Fprintf(&sb, " · assignees: %s", escape(strings.Join(g.Assignees, ", ")))
		}
		if g.Deadline != nil {
			fmt.Fprintf(&sb, " · deadline %s", g.Deadline.UTC().Format(time.RFC3339))
		}
	} else if g := j.LastGate(); g != nil {
		fmt.Fprintf(&sb, "\nNo open gate; last: %s gate %s (%s) %s", g.Kind, g.ID, escape(g.Name), outcomeText(g))
	} else {
		sb.WriteString("\nNo gates yet.")
	}
	if j.Message != "" {
		fmt.Fprintf(&sb, "\n> %s", escape(j.Message))
	}
	if publicURL != "" {
		fmt.Fprintf(&sb, "\n<%s/jobs/%s|View job>", strings.TrimRight(publicURL, "/"), j.ID)
	}
	return sb.String()
}

// resolvedText answers a resolution typed in a job channel.
func resolvedText(user string, a jobs.Action, j *jobs.Job, g *jobs.Gate) string {
	who := "<@" + user + ">"
	if g == nil {
		return fmt.Sprintf("%s: %s done; job %s is now `%s`.", who, a, j.ID, j.Status)
	}
	if g.State == jobs.GateOpen {
		return fmt.Sprintf("%s approved %s gate %s (%s): %d of %d approvals.", who, g.Kind, g.ID, escape(g.Name),
			len(g.Approvals), g.RequiredApprovals())
	}
	return fmt.Sprintf("%s: %s gate %s (%s) %s; job %s is now `%s`.", who, g.Kind, g.ID, escape(g.Name),
		outcomeText(g), j.ID, j.Status)
}

// outcomeText is a gate's outcome in words.
func outcomeText(g *jobs.Gate) string {
	if g.Outcome == nil {
		return "still open"
	}
	return string(*g.Outcome)
}

// escape protects text from Slack's mrkdwn control characters.
func escape(s string) string { return slacktext.Escape(s) }

package blocks

import (
	"fmt"
	"github.com/cla-ops/cla/internal/slacktext"
	"strings"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// maxAttemptLines bounds the "also tried" lines; the log has them all.
const maxAttemptLines = 5

// resolution is what replaces the buttons once a gate is closed: who
// resolved it, how and when, the message and evidence, and late attempts.
func resolution(v GateView) []slack.Block {
	g := v.Gate
	els := []slack.MixedElement{mrkdwn(truncate(resolvedLine(v), maxContextText))}
	if g.Message != nil && strings.TrimSpace(*g.Message) != "" {
		els = append(els, mrkdwn(truncate("💬 "+escape(*g.Message), maxContextText)))
	}
	if ev := g.Evidence; ev != nil {
		if strings.TrimSpace(ev.Message) != "" && (g.Message == nil || *g.Message != ev.Message) {
			els = append(els, mrkdwn(truncate("📝 "+escape(ev.Message), maxContextText)))
		}
		if ev.URL != "" {
			els = append(els, mrkdwn(truncate("🔗 "+link(ev.URL, "evidence"), maxContextText)))
		}
	}
	out := []slack.Block{slack.NewContextBlock(v.id("resolved"), els...)}
	if bg := g.BreakGlass; bg != nil {
		line := "⚠️ Break-glass by " + Mention(bg.By, v.SlackIDs) + ": " + escape(bg.Reason)
		out = append(out, slack.NewContextBlock(v.id("breakglass"), mrkdwn(truncate(line, maxContextText))))
	}
	if len(v.Attempts) > 0 {
		out = append(out, slack.NewContextBlock(v.id("attempts"), mrkdwn(truncate(attemptLines(v), maxContextText))))
	}
	return out
}

// resolvedLine reads "✅ Completed by <@U…> via api at <date>".
func resolvedLine(v GateView) string {
	g := v.Gate
	if g.ResolvedAt == nil || g.ResolvedBy == nil || g.ResolvedVia == nil {
		return outcomeText(g)
	}
	if *g.ResolvedVia == jobs.ViaTimeout {
		return outcomeText(g) + " at " + date(*g.ResolvedAt)
	}
	return fmt.Sprintf("%s by %s via %s at %s", outcomeText(g), Mention(*g.ResolvedBy, v.SlackIDs),
		*g.ResolvedVia, date(*g.ResolvedAt))
}

// outcomeText is the outcome with its emoji: "✅ Completed".
func outcomeText(g *jobs.Gate) string {
	if g.Outcome == nil {
		return "Closed"
	}
	switch *g.Outcome {
	case jobs.OutcomeSuccessful:
		return "✅ Completed"
	case jobs.OutcomeFailure:
		return "❌ Failed"
	case jobs.OutcomeApproved:
		return "✅ Approved"
	case jobs.OutcomeRejected:
		return "⛔ Rejected"
	case jobs.OutcomeResumed:
		return "▶️ Resumed"
	case jobs.OutcomeRetry:
		return "🔁 Retry chosen"
	case jobs.OutcomeSkip:
		return "⏭️ Skipped"
	case jobs.OutcomeAbort:
		return "🛑 Aborted"
	case jobs.OutcomeTimedOut:
		return "⌛ Timed out"
	case jobs.OutcomeCancelled:
		return "🚫 Cancelled"
	}
	return string(*g.Outcome)
}

// attemptLines reads "<@U…> also tried to approve at <date>", newest last.
func attemptLines(v GateView) string {
	as := v.Attempts
	var lines []string
	if len(as) > maxAttemptLines {
		lines = append(lines, fmt.Sprintf("… and %d earlier attempts", len(as)-maxAttemptLines))
		as = as[len(as)-maxAttemptLines:]
	}
	for _, a := range as {
		lines = append(lines, fmt.Sprintf("%s also tried to %s via %s at %s", Mention(a.By, v.SlackIDs),
			escape(a.Action), a.Via, date(a.At)))
	}
	return strings.Join(lines, "\n")
}

// link renders a URL as a mrkdwn link, or as escaped text when it holds
// characters that would break the link syntax.
func link(u, label string) string {
	if strings.ContainsAny(u, "<>| \n") || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
		return escape(u)
	}
	return slacktext.Link(u, label)
}

// BreakGlassNotice is the message that tells a channel an admin overrode a
// gate: "⚠️ Break-glass by @ci on Swap disk (job qa-1): reason".
func BreakGlassNotice(job *jobs.Job, g *jobs.Gate, ids map[string]string) string {
	if g.BreakGlass == nil {
		return ""
	}
	return truncate(fmt.Sprintf("⚠️ Break-glass by %s on %s (job %s): %s", Mention(g.BreakGlass.By, ids),
		escape(g.Name), escape(job.ID), escape(g.BreakGlass.Reason)), maxMessageText)
}

package blocks

import (
	"fmt"
	"strings"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// MaxHomeGates is how many gates the App Home lists (4 blocks each, within
// Slack's 100 blocks per view).
const MaxHomeGates = 20

// Home is a user's App Home: the open gates waiting on them, newest first,
// each with its buttons. more is how many were left out; a negative more
// says that some were, without counting them.
func Home(views []GateView, more int) slack.HomeTabViewRequest {
	out := []slack.Block{slack.NewHeaderBlock(plain("Waiting on you"))}
	if len(views) == 0 {
		out = append(out, slack.NewSectionBlock(mrkdwn("Nothing is waiting on you. 🎉"), nil, nil))
	}
	if len(views) > MaxHomeGates {
		more += len(views) - MaxHomeGates
		views = views[:MaxHomeGates]
	}
	for _, v := range views {
		out = append(out, homeGate(v)...)
	}
	switch {
	case more > 0:
		out = append(out, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more: `/manual-action list`", more))))
	case more < 0:
		out = append(out, slack.NewContextBlock("", mrkdwn("… and more: `/manual-action list`")))
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: out}}
}

// homeGate is the compact form of a gate: title, status line, buttons.
func homeGate(v GateView) []slack.Block {
	g := v.Gate
	title := fmt.Sprintf("%s *%s*\n%s", kindEmoji(g.Kind), escape(truncate(g.Name, 200)), intro(v))
	var line []string
	if d := deadlineText(g.Deadline, v.Now); d != "" {
		line = append(line, d)
	}
	if g.Kind == jobs.KindApproval {
		line = append(line, approvals(v))
	}
	if n := len(g.Checklist); n > 0 {
		line = append(line, fmt.Sprintf("☑️ checklist %d of %d done (tick it in the channel message)", n-len(g.Unchecked()), n))
	}
	out := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(title, maxSectionText)), nil, nil,
		slack.SectionBlockOptionBlockID(v.id("home-title")))}
	if len(line) > 0 {
		out = append(out, slack.NewContextBlock(v.id("home-status"), mrkdwn(truncate(strings.Join(line, " · "), maxContextText))))
	}
	return append(out, actions(v), slack.NewDividerBlock())
}

// Nudge is the thread reply of a reminder, escalation or reassignment,
// mentioning the people it is for.
func Nudge(v GateView, event string, who []string) string {
	people := mentions(who, v.SlackIDs)
	var text string
	switch event {
	case jobs.NotifyEscalated:
		text = fmt.Sprintf("🚨 Escalated to %s: *%s* is still waiting.", people, escape(v.Gate.Name))
	case jobs.NotifyReassigned:
		text = fmt.Sprintf("👉 Reassigned to %s: *%s* is yours now.", people, escape(v.Gate.Name))
	default:
		text = fmt.Sprintf("⏰ Reminder for %s: *%s* is still waiting.", people, escape(v.Gate.Name))
	}
	if d := deadlineText(v.Gate.Deadline, v.Now); d != "" {
		text += " " + d
	}
	return truncate(text, maxMessageText)
}

// Refused is the App Home of someone cla does not answer (the
// unknown-user policy): why, and what would let them in. text is plain
// text and is escaped here.
func Refused(text string) slack.HomeTabViewRequest {
	out := []slack.Block{slack.NewHeaderBlock(plain("cla")),
		slack.NewSectionBlock(mrkdwn(truncate(escape(text), maxSectionText)), nil, nil)}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: out}}
}

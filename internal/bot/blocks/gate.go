package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Budget of a gate message: Slack allows 50 blocks per message.
const (
	maxDescriptionSections = 4   // 12 000 characters of description
	maxChecklistItems      = 300 // 30 checkboxes elements
)

// GateView is everything a gate message shows. The caller resolves Slack
// users (SlackIDs) and reads late attempts from the job log, so that the
// builders stay pure.
type GateView struct {
	Job       *jobs.Job
	Gate      *jobs.Gate
	Now       time.Time
	PublicURL string
	// SlackIDs maps identity names, emails and assignees to Slack user ids,
	// for "<@U…>" mentions; unknown names render as "@name".
	SlackIDs map[string]string
	// Attempts are late tries to resolve the closed gate ("@bob also tried").
	Attempts []Attempt
}

// Attempt is one late try to resolve a closed gate, from the job log.
type Attempt struct {
	By     string
	Action string
	Via    string
	At     time.Time
}

// JobURL is the job's page on the monitor.
func (v GateView) JobURL() string {
	return strings.TrimSuffix(v.PublicURL, "/") + "/jobs/" + v.Job.ID
}

func (v GateView) id(part string) string { return BlockID(v.Job.ID, v.Gate.ID, part) }

func (v GateView) open() bool { return v.Gate.State == jobs.GateOpen }

// ManualActionHeader is the header of a manual action's message, as
// ctrlplane's RFC shows it.
const ManualActionHeader = "🔧 Manual Action Required"

// Message builds the blocks of a gate's announcement: open with its
// buttons, or resolved with who did what. It never exceeds Slack's limits.
// A manual action reads as ctrlplane's RFC shows it: the header "🔧 Manual
// Action Required", a section with the bold name and the description, the
// Deployment / Environment / Resource / Version fields, the buttons; cla's
// own lines (job link, assignees, deadline, checklist) come in between.
func Message(v GateView) []slack.Block {
	var out []slack.Block
	if v.Gate.Kind == jobs.KindAction {
		out = manualAction(v)
	} else {
		out = []slack.Block{
			slack.NewHeaderBlock(plain(truncate(kindEmoji(v.Gate.Kind)+" "+v.Gate.Name, maxHeaderText)),
				slack.HeaderBlockOptionBlockID(v.id("header"))),
			slack.NewSectionBlock(mrkdwn(intro(v)), nil, nil, slack.SectionBlockOptionBlockID(v.id("intro"))),
		}
		out = append(out, description(v, "")...)
		if f := fields(v); len(f) > 0 {
			out = append(out, slack.NewSectionBlock(nil, f, nil, slack.SectionBlockOptionBlockID(v.id("fields"))))
		}
	}
	out = append(out, status(v))
	out = append(out, checklist(v)...)
	if !v.open() {
		out = append(out, resolution(v)...)
	}
	return append(out, actions(v))
}

// Text is the notification text that goes with the blocks: what phones
// and screen readers show.
func Text(v GateView) string {
	verb := map[jobs.GateKind]string{jobs.KindAction: "Action required", jobs.KindApproval: "Approval needed",
		jobs.KindPause: "Paused", jobs.KindTrap: "Step failed, decision needed"}[v.Gate.Kind]
	if !v.open() {
		verb = outcomeText(v.Gate)
	}
	return truncate(fmt.Sprintf("%s: %s (job %s)", verb, escape(v.Gate.Name), v.Job.ID), maxMessageText)
}

func kindEmoji(k jobs.GateKind) string {
	switch k {
	case jobs.KindApproval:
		return "🗳️"
	case jobs.KindPause:
		return "⏸️"
	case jobs.KindTrap:
		return "🪤"
	}
	return "🛠️"
}

// manualAction is the RFC's layout of a manual action's first blocks.
func manualAction(v GateView) []slack.Block {
	out := []slack.Block{slack.NewHeaderBlock(plain(ManualActionHeader), slack.HeaderBlockOptionBlockID(v.id("header")))}
	title := "*" + escape(v.Gate.Name) + "*"
	if strings.TrimSpace(v.Gate.Description) == "" {
		out = append(out, slack.NewSectionBlock(mrkdwn(truncate(title, maxSectionText)), nil, nil,
			slack.SectionBlockOptionBlockID(v.id("description-0"))))
	} else {
		out = append(out, description(v, truncate(title, maxHeaderText)+"\n\n")...)
	}
	if f := fields(v); len(f) > 0 {
		out = append(out, slack.NewSectionBlock(nil, f, nil, slack.SectionBlockOptionBlockID(v.id("fields"))))
	}
	return append(out, slack.NewSectionBlock(mrkdwn(intro(v)), nil, nil, slack.SectionBlockOptionBlockID(v.id("intro"))))
}

func intro(v GateView) string {
	kind := map[jobs.GateKind]string{jobs.KindAction: "Manual action", jobs.KindApproval: "Approval",
		jobs.KindPause: "Pause", jobs.KindTrap: "Trap"}[v.Gate.Kind]
	return truncate(fmt.Sprintf("*%s* for job <%s|%s> · %s", kind, v.JobURL(), v.Job.ID, escape(v.Job.Name)), maxSectionText)
}

// description renders the gate's (already templated) mrkdwn description,
// after prefix, split across sections and truncated past the message
// budget.
func description(v GateView, prefix string) []slack.Block {
	if strings.TrimSpace(v.Gate.Description) == "" {
		return nil
	}
	parts := split(prefix+v.Gate.Description, maxSectionText)
	if len(parts) > maxDescriptionSections {
		parts = parts[:maxDescriptionSections]
		const more = "\n… _(truncated; the full text is on the job page)_"
		last := truncate(parts[len(parts)-1], maxSectionText-len([]rune(more)))
		parts[len(parts)-1] = strings.TrimSuffix(last, "…") + more
	}
	out := make([]slack.Block, len(parts))
	for i, p := range parts {
		out[i] = slack.NewSectionBlock(mrkdwn(p), nil, nil, slack.SectionBlockOptionBlockID(v.id(fmt.Sprintf("description-%d", i))))
	}
	return out
}

// fields shows the ctrlplane dispatch context as the RFC's message does
// ("*Deployment:*\ninfra-rollout"), each field only when present:
// Deployment is deployment.slug, else deployment.name; Version is
// release.version.tag, else release.version when it is a string, else
// version.tag.
func fields(v GateView) []*slack.TextBlockObject {
	c := v.Job.Context
	var out []*slack.TextBlockObject
	for _, f := range [][2]string{
		{"Deployment", firstOf(contextPath(c, "deployment", "slug"), contextPath(c, "deployment", "name"))},
		{"Environment", contextPath(c, "environment", "name")},
		{"Resource", contextPath(c, "resource", "name")},
		{"Version", firstOf(contextPath(c, "release", "version", "tag"), contextPath(c, "release", "version"), contextPath(c, "version", "tag"))},
	} {
		if f[1] != "" {
			out = append(out, mrkdwn(truncate("*"+f[0]+":*\n"+escape(f[1]), maxFieldText)))
		}
	}
	return out
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// status is the context line: assignees, deadline and approvals so far.
func status(v GateView) slack.Block {
	g := v.Gate
	els := []slack.MixedElement{mrkdwn(truncate("👤 Assigned to "+mentions(g.AllAssignees(), v.SlackIDs), maxContextText))}
	if v.open() {
		if d := deadlineText(g.Deadline, v.Now); d != "" {
			els = append(els, mrkdwn(d))
		}
	}
	if g.Kind == jobs.KindApproval {
		els = append(els, mrkdwn(truncate(approvals(v), maxContextText)))
	}
	return slack.NewContextBlock(v.id("status"), els...)
}

func approvals(v GateView) string {
	g := v.Gate
	text := fmt.Sprintf("🗳️ Approvals: %d of %d", len(g.Approvals), g.RequiredApprovals())
	if len(g.Approvals) == 0 {
		return text
	}
	by := make([]string, len(g.Approvals))
	for i, a := range g.Approvals {
		by[i] = Mention(a.By, v.SlackIDs)
	}
	return text + " — " + strings.Join(by, ", ")
}

// actions is the button row: the kind's buttons while open, and always
// the View link.
func actions(v GateView) slack.Block {
	var els []slack.BlockElement
	if v.open() {
		els = Buttons(v.Job.ID, v.Gate)
	}
	view := slack.NewButtonBlockElement(ActionView, v.Job.ID, plain("View"))
	view.URL = v.JobURL()
	return slack.NewActionBlock(v.id("actions"), append(els, view)...)
}

// Buttons are the interactive buttons of an open gate; each carries the
// job id as its value.
func Buttons(jobID string, g *jobs.Gate) []slack.BlockElement {
	b := func(id, text, style string) *slack.ButtonBlockElement {
		e := slack.NewButtonBlockElement(id, jobID, plain(text))
		e.Style = slack.Style(style)
		return e
	}
	switch g.Kind {
	case jobs.KindApproval:
		reject := b(ActionReject, "Reject", "danger")
		reject.Confirm = slack.NewConfirmationBlockObject(plain("Reject?"),
			plain(truncate("Reject "+g.Name+"? The job will not go on.", 300)), plain("Reject"), plain("Cancel"))
		reject.Confirm.Style = slack.StyleDanger
		return []slack.BlockElement{b(ActionApprove, "✅ Approve", "primary"), reject}
	case jobs.KindPause:
		return []slack.BlockElement{b(ActionResume, "▶️ Resume", "primary")}
	case jobs.KindTrap:
		return []slack.BlockElement{b(ActionRetry, "🔁 Retry", "primary"), b(ActionSkip, "⏭️ Skip", ""),
			b(ActionAbort, "🛑 Abort", "danger")}
	}
	return []slack.BlockElement{b(ActionComplete, "✅ Mark as Completed", "primary"),
		b(ActionFail, "❌ Report Failure", "danger")}
}

// PlainText is a gate's announcement without Block Kit: what cla posts when
// Slack refuses the interactive message (a missing scope, a rejected
// block), so that the assignees still learn of the gate and find its page.
func PlainText(v GateView) string {
	if !v.open() {
		return truncate(resolvedLine(v)+": *"+escape(v.Gate.Name)+"* (<"+v.JobURL()+"|job "+v.Job.ID+">)", maxMessageText)
	}
	head := ManualActionHeader
	if v.Gate.Kind != jobs.KindAction {
		head = kindEmoji(v.Gate.Kind) + " " + Text(v)
	}
	var b strings.Builder
	b.WriteString(head + "\n*" + escape(v.Gate.Name) + "*")
	if d := strings.TrimSpace(v.Gate.Description); d != "" {
		b.WriteString("\n" + d)
	}
	b.WriteString("\nAssigned to " + mentions(v.Gate.AllAssignees(), v.SlackIDs))
	b.WriteString("\nOpen <" + v.JobURL() + "|job " + v.Job.ID + "> to act on it, or use `/manual-action complete " + v.Job.ID + "`.")
	return truncate(b.String(), maxMessageText)
}

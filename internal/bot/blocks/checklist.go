package blocks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// checklist renders the gate's checklist: checkboxes (10 per element, one
// element per block) while the gate is open, ticks as text once closed.
func checklist(v GateView) []slack.Block {
	items := v.Gate.Checklist
	if len(items) == 0 {
		return nil
	}
	done := len(items) - len(v.Gate.Unchecked())
	head := fmt.Sprintf("*Checklist* — %d of %d done", done, len(items))
	shown := min(len(items), maxChecklistItems)
	if shown < len(items) {
		head += fmt.Sprintf(" (the first %d are shown here; the rest are on the job page)", shown)
	}
	out := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil, slack.SectionBlockOptionBlockID(v.id("checklist")))}
	if !v.open() {
		return append(out, tickedText(v)...)
	}
	for start := 0; start < shown; start += ChecklistPage {
		out = append(out, checkboxes(v, start, min(start+ChecklistPage, shown)))
	}
	return out
}

// checkboxes is one group of up to 10 items; option values are the items'
// 0-based indexes, initial options the ticked ones.
func checkboxes(v GateView, start, end int) slack.Block {
	el := slack.NewCheckboxGroupsBlockElement(ActionChecklist)
	for i := start; i < end; i++ {
		opt := slack.NewOptionBlockObject(strconv.Itoa(i), plain(truncate(v.Gate.Checklist[i], maxOptionText)), nil)
		el.Options = append(el.Options, opt)
		if v.Gate.Checked(i) {
			el.InitialOptions = append(el.InitialOptions, opt)
		}
	}
	return slack.NewActionBlock(v.id(ChecklistPart(start)), el)
}

// tickedText lists the items with their final state, within two sections.
func tickedText(v GateView) []slack.Block {
	var lines []string
	for i, item := range v.Gate.Checklist {
		mark := "⬜"
		if v.Gate.Checked(i) {
			mark = "✅"
		}
		lines = append(lines, mark+" "+escape(truncate(item, 200)))
	}
	parts := split(strings.Join(lines, "\n"), maxSectionText)
	if len(parts) > 2 {
		parts = parts[:2]
		parts[1] = truncate(parts[1], maxSectionText-40) + "\n… _(more on the job page)_"
	}
	out := make([]slack.Block, len(parts))
	for i, p := range parts {
		out[i] = slack.NewSectionBlock(mrkdwn(p), nil, nil, slack.SectionBlockOptionBlockID(v.id(fmt.Sprintf("ticks-%d", i))))
	}
	return out
}

package talkback

import (
	"fmt"
	"strings"
)

// Usage is the one-line form of an action, e.g.
// "restart service=<service> [force=true|false]", used in refusals and help.
func (a *Action) Usage() string {
	parts := []string{a.Name}
	for _, name := range a.argOrder {
		arg := a.Args[name]
		p := name + "=<" + name + ">"
		if len(arg.Enum) > 0 {
			p = name + "=" + strings.Join(arg.Enum, "|")
		}
		if !arg.Required {
			p = "[" + p + "]"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// Help describes one action for chat (Slack mrkdwn): usage, arguments with
// their constraints and defaults, timeout and confirmation rule.
func (a *Action) Help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*", a.Name)
	if a.Description != "" {
		fmt.Fprintf(&b, " — %s", a.Description)
	}
	fmt.Fprintf(&b, "\n`%s`", a.Usage())
	for _, name := range a.argOrder {
		b.WriteString("\n• " + a.Args[name].help())
	}
	if a.Confirm.Required {
		b.WriteString("\n_needs confirmation by someone else")
		if len(a.Confirm.Groups) > 0 {
			b.WriteString(" in " + strings.Join(a.Confirm.Groups, " or "))
		}
		b.WriteString("_")
	}
	return b.String()
}

func (arg *Arg) help() string {
	s := "`" + arg.Name + "`"
	if arg.Required {
		s += " (required)"
	}
	if arg.Description != "" {
		s += " " + arg.Description
	}
	switch {
	case len(arg.Enum) > 0:
		s += "; one of " + strings.Join(arg.Enum, ", ")
	case arg.Pattern != "":
		s += "; matches `" + arg.Pattern + "`"
	}
	if arg.Default != "" {
		s += "; default " + arg.Default
	}
	return s
}

// HelpList formats the result of Available: one block per action, and a
// clear line when there is nothing to run.
func HelpList(av []Availability) string {
	if len(av) == 0 {
		return "There is nothing you can run here right now."
	}
	blocks := make([]string, len(av))
	for i, x := range av {
		blocks[i] = x.Action.Help()
		if x.NeedsArgs {
			blocks[i] += "\n_allowed or not depending on the arguments_"
		}
	}
	return strings.Join(blocks, "\n\n")
}

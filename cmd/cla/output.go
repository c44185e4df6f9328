package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// printJSON writes v indented, for --output json.
func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// show prints v as JSON or, in text mode, with the text printer.
func (c *clientFlags) show(e *env, v any, text func(io.Writer)) {
	if c.output == "json" {
		printJSON(e.stdout, v)
		return
	}
	text(e.stdout)
}

func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// printJob prints a job and its gates for people.
func printJob(w io.Writer, j *jobs.Job) {
	fmt.Fprintf(w, "%s  %s\n", j.ID, j.Name)
	fmt.Fprintf(w, "  status:    %s (version %d)\n", j.Status, j.Version)
	fmt.Fprintf(w, "  requester: %s\n", j.Requester)
	fmt.Fprintf(w, "  created:   %s   updated: %s\n", when(j.CreatedAt), when(j.UpdatedAt))
	if j.Message != "" {
		fmt.Fprintf(w, "  message:   %s\n", j.Message)
	}
	for _, c := range j.Channels {
		fmt.Fprintf(w, "  channel:   #%s (%s)\n", c.Name, c.ID)
	}
	if len(j.Gates) > 0 {
		fmt.Fprintln(w, "  gates:")
	}
	for _, g := range j.Gates {
		fmt.Fprintf(w, "    %s\n", gateLine(g))
		if g.State == jobs.GateOpen && g.Description != "" {
			fmt.Fprintf(w, "       %s\n", g.Description)
		}
		for i, item := range g.Checklist {
			mark := " "
			if g.Checked(i) {
				mark = "x"
			}
			fmt.Fprintf(w, "       [%s] %d. %s\n", mark, i+1, item)
		}
	}
}

// gateLine is one line about a gate: what it is and where it stands.
func gateLine(g *jobs.Gate) string {
	s := fmt.Sprintf("%s %-8s %q", g.ID, g.Kind, g.Name)
	if g.State == jobs.GateOpen {
		s += "  OPEN"
		if len(g.Assignees) > 0 {
			s += "  assignees: " + strings.Join(g.AllAssignees(), ", ")
		}
		if g.Kind == jobs.KindApproval {
			s += fmt.Sprintf("  approvals: %d/%d", len(g.Approvals), g.RequiredApprovals())
		}
		if g.Deadline != nil {
			s += "  deadline: " + when(*g.Deadline)
		}
		if g.RequireEvidence {
			s += "  (evidence required)"
		}
		return s
	}
	if g.Outcome != nil {
		s += "  " + string(*g.Outcome)
	}
	if g.ResolvedBy != nil {
		s += fmt.Sprintf(" by %s via %s at %s", *g.ResolvedBy, deref(g.ResolvedVia), when(*g.ResolvedAt))
	}
	if g.Message != nil {
		s += fmt.Sprintf(": %q", *g.Message)
	}
	if g.BreakGlass != nil {
		s += fmt.Sprintf("  ⚠️ BREAK-GLASS by %s: %q", g.BreakGlass.By, g.BreakGlass.Reason)
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// printJobs prints a table of jobs, newest first.
func printJobs(w io.Writer, page jobs.JobPage) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tOPEN GATE\tUPDATED\tNAME")
	for _, j := range page.Jobs {
		open := "-"
		if g := j.OpenGate(); g != nil {
			open = fmt.Sprintf("%s %s", g.Kind, g.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, open, when(j.UpdatedAt), j.Name)
	}
	_ = tw.Flush()
	if page.Next != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", page.Next)
	}
}

// printEntry prints one log line.
func printEntry(w io.Writer, e jobs.LogEntry) {
	who := e.Actor
	if e.Via != "" {
		who += " via " + e.Via
	}
	text := e.Text
	if len(e.Content) > 0 {
		text += fmt.Sprintf(" [%d bytes]", len(e.Content))
	}
	fmt.Fprintf(w, "%5d  %s  %-9s %s: %s\n", e.Seq, when(e.At), e.Kind, who, text)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
	printAnnotations(w, j)
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

// Long log annotations are collapsed to their first and last lines unless
// --full is given.
const (
	collapseOver = 12 // lines
	collapseKeep = 4  // lines kept at each end
)

// printEntry prints one log entry for people: who, through which door,
// what kind of Slack event (edit, delete, thread reply, file), and the
// text, with long log annotations collapsed unless full.
func printEntry(w io.Writer, e jobs.LogEntry, full bool) {
	who := e.Actor
	if e.Via != "" {
		who += " via " + e.Via
	}
	var marks []string
	switch e.Fields["subtype"] {
	case "message_changed":
		marks = append(marks, "(edited)")
	case "message_deleted":
		marks = append(marks, "(deleted)")
	}
	if e.Fields["thread_ts"] != "" {
		marks = append(marks, "↳ reply in thread "+e.Fields["thread_ts"])
	}
	text := e.Text
	if e.Fields["annotationKind"] == jobs.AnnotationLog && !full {
		text = collapse(text)
	}
	lines := []string{}
	if text != "" || len(marks) == 0 {
		lines = append(lines, text)
	}
	lines = append(lines, fileLines(e)...)
	head := fmt.Sprintf("%5d  %s  %-9s %s", e.Seq, when(e.At), e.Kind, who)
	if len(marks) > 0 {
		head += " " + strings.Join(marks, " ")
	}
	fmt.Fprintf(w, "%s: %s\n", head, strings.Join(lines, "\n       "))
}

// fileLines describe the files an entry refers to: a file annotation (name,
// size, how to fetch it) or the files of a mirrored Slack message.
func fileLines(e jobs.LogEntry) []string {
	var out []string
	if e.Fields["annotationKind"] == jobs.AnnotationFile {
		size, _ := strconv.Atoi(e.Fields["size"])
		line := fmt.Sprintf("📎 %s (%s)", e.Fields["name"], jobs.ByteSize(size))
		if e.Fields["content"] != "" || e.Fields["permalink"] == "" {
			line += fmt.Sprintf(" — annotation %s: cla job annotation get <job> %s", e.Fields["annotation"], e.Fields["annotation"])
		} else {
			line += " not kept, see " + e.Fields["permalink"]
		}
		out = append(out, line)
	}
	n, _ := strconv.Atoi(e.Fields["files"])
	for i := 1; i <= n; i++ {
		p := "file." + strconv.Itoa(i) + "."
		size, _ := strconv.Atoi(e.Fields[p+"size"])
		out = append(out, fmt.Sprintf("📎 %s (%s) %s", e.Fields[p+"name"], jobs.ByteSize(size), e.Fields[p+"permalink"]))
	}
	return out
}

// collapse keeps the first and last lines of a long text.
func collapse(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) <= collapseOver {
		return text
	}
	hidden := len(lines) - 2*collapseKeep
	kept := append(append(append([]string{}, lines[:collapseKeep]...),
		fmt.Sprintf("… %d more lines (--full shows them)", hidden)), lines[len(lines)-collapseKeep:]...)
	return strings.Join(kept, "\n")
}

// printAnnotations lists a job's annotations, one line each.
func printAnnotations(w io.Writer, j *jobs.Job) {
	if len(j.Annotations) == 0 {
		return
	}
	fmt.Fprintln(w, "  annotations:")
	for _, a := range j.Annotations {
		what := a.Preview
		if a.Kind == jobs.AnnotationFile {
			what = fmt.Sprintf("%s (%s)", a.Name, jobs.ByteSize(a.Size))
			if !a.Stored && a.Permalink != "" {
				what += " not kept, see " + a.Permalink
			}
		}
		what = strings.ReplaceAll(what, "\n", " ⏎ ")
		if r := []rune(what); len(r) > 100 {
			what = string(r[:99]) + "…"
		}
		fmt.Fprintf(w, "    %d. %-7s %s via %s at %s: %s\n", a.ID, a.Kind, a.Actor, a.Via, when(a.At), what)
	}
}

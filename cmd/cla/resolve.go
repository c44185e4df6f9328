package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

var resolveHelp = map[string]help{
	"complete": {about: "Completes the job's open manual action (successful). If the gate requires evidence, give\n--evidence-message and/or --evidence-url. Checklist items must be ticked first.",
		examples: "  cla complete qa-1234 --evidence-url https://tickets.example.com/42\n  cla complete qa-1234 --message \"disk swapped\" --evidence-message \"serial ABC123\""},
	"fail":    {about: "Fails the job's open manual action. The job fails unless the gate was opened with --continue-on-failure.", examples: "  cla fail qa-1234 --message \"no spare disk on site\""},
	"approve": {about: "Approves the job's open approval gate. It passes when --required people have approved;\nthe job's requester may not approve unless the gate allows it.", examples: "  cla approve qa-1234 --message lgtm"},
	"reject":  {about: "Rejects the job's open approval gate; one rejection is enough.", examples: "  cla reject qa-1234 --message \"not during the freeze\""},
	"resume":  {about: "Resumes the job's open pause gate.", examples: "  cla resume qa-1234"},
}

// resolveCmd builds complete, fail, approve, reject and resume.
func resolveCmd(verb string) func(context.Context, *env, []string) int {
	return func(ctx context.Context, e *env, args []string) int {
		var cf clientFlags
		var r jobs.Resolution
		var ev jobs.Evidence
		h := resolveHelp[verb]
		h.usage = "cla " + verb + " <job> [--message TEXT] [flags]"
		if verb == "complete" || verb == "fail" {
			h.usage = "cla " + verb + " <job> [--message TEXT] [--evidence-message TEXT] [--evidence-url URL] [flags]"
		}
		fs := newFlags(e, verb, h)
		cf.register(fs, e)
		fs.StringVar(&r.Message, "message", "", "a `TEXT` note for the audit trail and Slack")
		if verb == "complete" || verb == "fail" {
			fs.StringVar(&ev.Message, "evidence-message", "", "evidence `TEXT`: what was done")
			fs.StringVar(&ev.URL, "evidence-url", "", "evidence `URL`: a ticket, dashboard or log")
		}
		var bg breakGlassFlags
		bg.register(fs)
		pos, code, ok := parse(e, fs, args, 1)
		if !ok {
			return code
		}
		r.Action = jobs.Action(verb)
		if !ev.Empty() {
			r.Evidence = &ev
		}
		if r.BreakGlass, ok = bg.get(e, verb); !ok {
			return exitError
		}
		return resolve(ctx, e, &cf, pos[0], r)
	}
}

func resolve(ctx context.Context, e *env, cf *clientFlags, id string, r jobs.Resolution) int {
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("%s: %v", r.Action, err)
		return exitError
	}
	job, err := cl.Resolve(ctx, id, r)
	if err != nil {
		return cf.fail(e, fmt.Sprintf("%s %s", r.Action, id), err)
	}
	cf.show(e, job, func(w io.Writer) { printResolved(w, job) })
	return exitOK
}

func printResolved(w io.Writer, job *jobs.Job) {
	if g := job.LastGate(); g != nil {
		fmt.Fprintf(w, "%s: %s\n", job.ID, gateLine(g))
	}
	fmt.Fprintf(w, "%s is %s\n", job.ID, job.Status)
}

func runDecide(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var r jobs.Resolution
	fs := newFlags(e, "decide", help{usage: "cla decide <job> retry|skip|abort [--message TEXT] [flags]",
		about: "Answers the job's open trap (a failed step waiting for a person): retry the step, skip it,\n" +
			"or abort the job (it fails).",
		examples: "  cla decide qa-1234 retry --message \"flaky network, retrying\"\n  cla decide qa-1234 abort"})
	cf.register(fs, e)
	fs.StringVar(&r.Message, "message", "", "a `TEXT` note for the audit trail and Slack")
	var bg breakGlassFlags
	bg.register(fs)
	pos, code, ok := parse(e, fs, args, 2)
	if !ok {
		return code
	}
	if r.BreakGlass, ok = bg.get(e, "decide"); !ok {
		return exitError
	}
	r.Action = jobs.Action(pos[1])
	if kind, known := jobs.KindOf(r.Action); !known || kind != jobs.KindTrap {
		e.errorf("decide: the decision must be retry, skip or abort, not %q%s", pos[1], suggest(pos[1], []string{"retry", "skip", "abort"}))
		return exitError
	}
	return resolve(ctx, e, &cf, pos[0], r)
}

func runReassign(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var assignees listFlag
	fs := newFlags(e, "reassign", help{usage: "cla reassign <job> --assignee WHO [--assignee WHO...] [flags]",
		about: "Replaces the assignees of the job's open gate; the new assignees are notified.\n" +
			"Allowed for the gate's assignees, the job's requester and admins.",
		examples: "  cla reassign qa-1234 --assignee bob --assignee oncall@example.com"})
	cf.register(fs, e)
	fs.Var(&assignees, "assignee", "new assignee `WHO`: identity, group, email, Slack id (repeatable)")
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	if len(assignees) == 0 {
		e.errorf("reassign: give at least one --assignee")
		return exitError
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("reassign: %v", err)
		return exitError
	}
	job, err := cl.Reassign(ctx, pos[0], assignees)
	if err != nil {
		return cf.fail(e, "reassign "+pos[0], err)
	}
	cf.show(e, job, func(w io.Writer) { printResolved(w, job) })
	return exitOK
}

// breakGlassFlags are an admin's emergency override of who may resolve.
type breakGlassFlags struct {
	on     bool
	reason string
}

func (b *breakGlassFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&b.on, "break-glass", false, "admins only: resolve a gate assigned to others, recorded everywhere (needs --reason)")
	fs.StringVar(&b.reason, "reason", "", "why the glass was broken (`TEXT`, with --break-glass)")
}

// get returns the override asked for, or reports a usage mistake.
func (b *breakGlassFlags) get(e *env, verb string) (*jobs.BreakGlass, bool) {
	switch {
	case b.on && strings.TrimSpace(b.reason) == "":
		e.errorf("%s: --break-glass needs --reason TEXT: the override is recorded with it in the job log, Slack and the monitor", verb)
		return nil, false
	case !b.on && b.reason != "":
		e.errorf("%s: --reason goes with --break-glass; for a note use --message", verb)
		return nil, false
	case b.on:
		return &jobs.BreakGlass{Reason: b.reason}, true
	}
	return nil, true
}

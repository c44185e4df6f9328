package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

func runGate(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var cfg jobs.GateConfig
	var kind string
	var assignees listFlag
	var checklist, channels rawListFlag
	var wait bool
	fs := newFlags(e, "gate", help{usage: "cla gate <job> --kind action|approval|pause|trap --name NAME [flags]",
		about: "Opens a manual step on a job that has none open, and notifies its assignees.\n" +
			"  action    someone does something by hand, then completes or fails it (cla complete / cla fail)\n" +
			"  approval  --required people approve (cla approve / cla reject); the requester may not approve\n" +
			"  pause     the pipeline waits until someone resumes it (cla resume)\n" +
			"  trap      a step failed; someone decides retry, skip or abort (cla decide)\n" +
			"The description is a template with {[ ]} delimiters over the job context: {[ .resource.name ]}.\n" +
			"With --wait, cla waits until the gate is resolved, surviving server restarts, and exits 0 when\n" +
			"it passed, 1 when it failed, was rejected, aborted, timed out or cancelled, 2 on errors.",
		examples: `  cla gate qa-1234 --kind action --name "Swap failed disk" --assignee ops \
      --description "Replace the failed disk in {[ .resource.name ]}" --require-evidence --timeout 24h --wait
  cla gate qa-1234 --kind approval --name "Go live" --required 2 --assignee sre --wait
  cla gate qa-1234 --kind pause --name "Hold for the change window" --channel slack:C0123
  cla gate qa-1234 --kind action --name "Verify" --checklist "disks green" --checklist "alerts quiet"`})
	cf.register(fs, e)
	fs.StringVar(&kind, "kind", "", "`KIND`: action, approval, pause or trap (required)")
	fs.StringVar(&cfg.Name, "name", "", "`NAME` of the step: what is to be done (required)")
	fs.StringVar(&cfg.Description, "description", "", "`TEXT` for the assignees; a template over the job context")
	fs.Var(&assignees, "assignee", "`WHO` may resolve it: identity, group, email, Slack id (repeatable)")
	fs.Var(&channels, "channel", "notify `TYPE:TARGET`: slack:C0123, email:ops@example.com, webhook:https://... (repeatable)")
	fs.StringVar(&cfg.Timeout, "timeout", "", "time out after this `DURATION`: 24h or PT24H")
	fs.BoolVar(&cfg.RequireEvidence, "require-evidence", false, "completing needs evidence (a message or URL)")
	fs.IntVar(&cfg.Required, "required", 0, "`N` approvals needed (approval gates; default 1)")
	fs.BoolVar(&cfg.AllowSelfApproval, "allow-self-approval", false, "let the job's requester approve")
	fs.Var(&checklist, "checklist", "an `ITEM` to tick before completing (repeatable)")
	fs.BoolVar(&cfg.ContinueOnFailure, "continue-on-failure", false, "a failed or rejected gate does not fail the job")
	fs.BoolVar(&cfg.CompletesJob, "completes-job", false, "the gate's outcome ends the job (successful / failure)")
	fs.BoolVar(&wait, "wait", false, "wait until the gate is resolved; exit 0 passed, 1 failed")
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cfg.Kind, cfg.Assignees, cfg.Checklist = jobs.GateKind(kind), assignees, checklist
	var err error
	if cfg.Channels, err = parseChannels(channels); err != nil {
		e.errorf("gate: %v", err)
		return exitError
	}
	if kind == "" || cfg.Name == "" {
		e.errorf("gate: --kind and --name are required\nRun 'cla gate --help' for usage.")
		return exitError
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("gate: %v", err)
		return exitError
	}
	gate, err := cl.OpenGate(ctx, pos[0], cfg)
	if err != nil {
		return cf.fail(e, "open gate on "+pos[0], err)
	}
	if !wait {
		cf.show(e, gate, func(w io.Writer) { fmt.Fprintf(w, "opened %s\n", gateLine(gate)) })
		return exitOK
	}
	if cf.output == "text" {
		e.errorf("opened %s on %s; waiting for it to be resolved (Ctrl-C stops waiting, not the gate)", gate.ID, pos[0])
	}
	return awaitGate(ctx, e, &cf, cl, pos[0], gate.ID, 0)
}

// parseChannels reads type:target pairs.
func parseChannels(specs []string) ([]jobs.NotifyChannel, error) {
	var out []jobs.NotifyChannel
	for _, s := range specs {
		typ, target, ok := strings.Cut(s, ":")
		if !ok || target == "" {
			return nil, fmt.Errorf("--channel %q must be type:target, like slack:C0123 or email:ops@example.com", s)
		}
		ch := jobs.NotifyChannel{Type: typ}
		switch typ {
		case "slack":
			ch.ChannelID = target
		case "email":
			ch.To = target
		case "webhook":
			ch.URL = target
		default:
			return nil, fmt.Errorf("--channel %q: type must be slack, email or webhook", s)
		}
		out = append(out, ch)
	}
	return out, nil
}

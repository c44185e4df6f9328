package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// gateFlags are the flags of `cla gate`; each overrides the same field of
// a --file config when given.
type gateFlags struct {
	cfg                        jobs.GateConfig
	kind, file, agentConfig    string
	assignees                  listFlag
	checklist, channels        rawListFlag
	reminderInterval, reminder string
	maxReminders               int
	escalation                 escalationFlag
	wait                       bool
}

func (f *gateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "file", "", "read the gate config from `FILE` (JSON or YAML, the API's shape); flags override it")
	fs.StringVar(&f.agentConfig, "agent-config", "", "read ctrlplane's manual-action config from `FILE` (JSON or YAML, bare or the RFC's type: Deployment document); flags override it")
	fs.StringVar(&f.kind, "kind", "", "`KIND`: action, approval, pause or trap (required, here or in --file)")
	fs.StringVar(&f.cfg.Name, "name", "", "`NAME` of the step: what is to be done (required, here or in --file)")
	fs.StringVar(&f.cfg.Description, "description", "", "`TEXT` for the assignees; a template over the job context")
	fs.Var(&f.assignees, "assignee", "`WHO` may resolve it: identity, group, email, Slack id (repeatable)")
	fs.BoolVar(&f.cfg.AllowUnknownAssignees, "allow-unknown-assignees", false, "accept assignees the server knows nothing of")
	fs.Var(&f.channels, "channel", "notify `TYPE:TARGET`: slack:C0123, email:ops@example.com, webhook:https://... (repeatable)")
	fs.StringVar(&f.cfg.Timeout, "timeout", "", "time out after this `DURATION`: 24h or PT24H")
	fs.BoolVar(&f.cfg.RequireEvidence, "require-evidence", false, "completing needs evidence (a message or URL)")
	fs.IntVar(&f.cfg.Required, "required", 0, "`N` approvals needed (approval gates; default 1)")
	fs.BoolVar(&f.cfg.AllowSelfApproval, "allow-self-approval", false, "let the job's requester approve")
	fs.Var(&f.checklist, "checklist", "an `ITEM` to tick before completing (repeatable)")
	fs.BoolVar(&f.cfg.AllowPartial, "allow-partial-checklist", false, "allow completing with checklist items unticked")
	fs.StringVar(&f.reminderInterval, "reminder-interval", "", "remind the assignees every `DURATION` while open (1h, PT1H)")
	fs.StringVar(&f.reminder, "reminder-cron", "", "remind on a cron `SCHEDULE` (\"0 9 * * MON-FRI\") while open")
	fs.IntVar(&f.maxReminders, "max-reminders", defaultCLIReminders, "send at most `N` reminders")
	fs.Var(escalateAfter{&f.escalation}, "escalate-after", "escalate when still open this `DURATION` after opening (repeatable, in order)")
	fs.Var(escalateTo{&f.escalation}, "escalate-to", "`WHO` the preceding --escalate-after tier goes to (repeatable)")
	fs.BoolVar(&f.cfg.ContinueOnFailure, "continue-on-failure", false, "a failed or rejected gate does not fail the job")
	fs.BoolVar(&f.cfg.CompletesJob, "completes-job", false, "the gate's outcome ends the job (successful / failure)")
	fs.BoolVar(&f.wait, "wait", false, "wait until the gate is resolved; exit 0 passed, 1 failed")
}

// config merges the file (if any) with the flags that were given.
func (f *gateFlags) config(fs *flag.FlagSet) (jobs.GateConfig, error) {
	cfg := jobs.GateConfig{}
	if f.file != "" && f.agentConfig != "" {
		return cfg, fmt.Errorf("give --file or --agent-config, not both")
	}
	if f.agentConfig != "" {
		ac, err := loadAgentConfig(f.agentConfig)
		if err != nil {
			return cfg, err
		}
		cfg = ac.cfg
	}
	if f.file != "" {
		var err error
		if cfg, err = loadGateFile(f.file); err != nil {
			return cfg, err
		}
	}
	channels, err := parseChannels(f.channels)
	if err != nil {
		return cfg, err
	}
	if err := f.escalation.complete(); err != nil {
		return cfg, err
	}
	set := map[string]func(){
		"kind": func() { cfg.Kind = jobs.GateKind(f.kind) }, "name": func() { cfg.Name = f.cfg.Name },
		"description": func() { cfg.Description = f.cfg.Description }, "assignee": func() { cfg.Assignees = f.assignees },
		"allow-unknown-assignees": func() { cfg.AllowUnknownAssignees = f.cfg.AllowUnknownAssignees },
		"channel":                 func() { cfg.Channels = channels }, "timeout": func() { cfg.Timeout = f.cfg.Timeout },
		"require-evidence": func() { cfg.RequireEvidence = f.cfg.RequireEvidence }, "required": func() { cfg.Required = f.cfg.Required },
		"allow-self-approval": func() { cfg.AllowSelfApproval = f.cfg.AllowSelfApproval }, "checklist": func() { cfg.Checklist = f.checklist },
		"allow-partial-checklist": func() { cfg.AllowPartial = f.cfg.AllowPartial },
		"reminder-interval":       func() { f.remind(&cfg).Interval = f.reminderInterval },
		"reminder-cron":           func() { f.remind(&cfg).Cron = f.reminder },
		"max-reminders":           func() { f.reminderOf(&cfg).MaxReminders = f.maxReminders },
		"escalate-after":          func() { cfg.Escalation = f.escalation.tiers },
		"continue-on-failure":     func() { cfg.ContinueOnFailure = f.cfg.ContinueOnFailure },
		"completes-job":           func() { cfg.CompletesJob = f.cfg.CompletesJob },
	}
	fs.Visit(func(fl *flag.Flag) {
		if apply := set[fl.Name]; apply != nil {
			apply()
		}
	})
	if (cfg.Kind == "" && cfg.Type == "") || strings.TrimSpace(cfg.Name) == "" {
		return cfg, fmt.Errorf("--kind and --name are required (as flags, in --file or in --agent-config)")
	}
	return cfg, nil
}

// defaultCLIReminders is how many reminders --reminder-* sends unless
// --max-reminders says otherwise (the API's maxReminders has its own default).
const defaultCLIReminders = 3

func (f *gateFlags) reminderOf(cfg *jobs.GateConfig) *jobs.Reminder {
	if cfg.Reminder == nil {
		cfg.Reminder = &jobs.Reminder{}
	}
	return cfg.Reminder
}

// remind starts a reminder from the flags, with --max-reminders (or its
// default) as its cap.
func (f *gateFlags) remind(cfg *jobs.GateConfig) *jobs.Reminder {
	r := f.reminderOf(cfg)
	r.MaxReminders = f.maxReminders
	return r
}

func runGate(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var f gateFlags
	fs := newFlags(e, "gate", help{usage: "cla gate <job> --kind action|approval|pause|trap --name NAME [flags]",
		about: "Opens a manual step on a job that has none open, and notifies its assignees.\n" +
			"  action    someone does something by hand, then completes or fails it (cla complete / cla fail)\n" +
			"  approval  --required people approve (cla approve / cla reject); the requester may not approve\n" +
			"  pause     the pipeline waits until someone resumes it (cla resume)\n" +
			"  trap      a step failed; someone decides retry, skip or abort (cla decide)\n" +
			"The description is a template with {[ ]} delimiters over the job context: {[ .resource.name ]}.\n" +
			"Assignees must name someone the server knows (an identity, group, email, Slack user or user\n" +
			"group) unless --allow-unknown-assignees is given.\n" +
			"With --wait, cla waits until the gate is resolved, surviving server restarts, and exits 0 when\n" +
			"it passed, 1 when it failed, was rejected, aborted, timed out or cancelled, 2 on errors.",
		examples: `  cla gate qa-1234 --kind action --name "Swap failed disk" --assignee ops \
      --description "Replace the failed disk in {[ .resource.name ]}" --require-evidence --timeout 24h --wait
  cla gate qa-1234 --kind approval --name "Go live" --required 2 --assignee sre --wait
  cla gate qa-1234 --kind pause --name "Hold for the change window" --channel slack:C0123
  cla gate qa-1234 --kind action --name "Verify" --checklist "disks green" --checklist "alerts quiet"
  cla gate qa-1234 --kind action --name "Update DNS" --assignee ops --reminder-interval 1h --max-reminders 3 \
      --escalate-after 4h --escalate-to lead --escalate-after 8h --escalate-to director
  cla gate qa-1234 --file gate.yaml --wait
  cla gate qa-1234 --agent-config infra-rollout.yaml --wait`})
	cf.register(fs, e)
	f.register(fs)
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cfg, err := f.config(fs)
	if err != nil {
		e.errorf("gate: %v\nRun 'cla gate --help' for usage.", err)
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
	if !f.wait {
		cf.show(e, gate, func(w io.Writer) { fmt.Fprintf(w, "opened %s\n", gateLine(gate)) })
		return exitOK
	}
	if cf.output == "text" {
		e.errorf("opened %s on %s; waiting for it to be resolved (Ctrl-C stops waiting, not the gate)", gate.ID, pos[0])
	}
	return awaitGate(ctx, e, &cf, cl, pos[0], gate.ID, 0)
}

// escalationFlag collects --escalate-after/--escalate-to pairs in order.
type escalationFlag struct{ tiers []jobs.Escalation }

// complete checks every tier names someone.
func (f *escalationFlag) complete() error {
	for i, t := range f.tiers {
		if len(t.Assignees) == 0 {
			return fmt.Errorf("--escalate-after %s (tier %d) needs at least one --escalate-to after it", t.After, i+1)
		}
	}
	return nil
}

// escalateAfter starts a new escalation tier.
type escalateAfter struct{ f *escalationFlag }

func (v escalateAfter) String() string { return "" }
func (v escalateAfter) Set(s string) error {
	if _, err := jobs.ParseDuration(s); err != nil {
		return err
	}
	v.f.tiers = append(v.f.tiers, jobs.Escalation{After: s})
	return nil
}

// escalateTo adds an assignee to the latest tier.
type escalateTo struct{ f *escalationFlag }

func (v escalateTo) String() string { return "" }
func (v escalateTo) Set(s string) error {
	if len(v.f.tiers) == 0 {
		return fmt.Errorf("give --escalate-after DURATION before --escalate-to")
	}
	t := &v.f.tiers[len(v.f.tiers)-1]
	for _, who := range strings.Split(s, ",") {
		if who = strings.TrimSpace(who); who != "" {
			t.Assignees = append(t.Assignees, who)
		}
	}
	return nil
}

// parseChannels reads type:target pairs.
func parseChannels(specs []string) ([]jobs.NotifyChannel, error) {
	var out []jobs.NotifyChannel
	for _, s := range specs {
		typ, target, ok := strings.Cut(s, ":")
		if !ok || target == "" {
			return nil, fmt.Errorf("--channel %q must be type:target, like slack:C0123 or email:ops@example.com", s)
		}
		ch := jobs.NotifyChannel{Type: jobs.ChannelType(typ)}
		switch ch.Type {
		case jobs.ChannelSlack:
			ch.ChannelID = target
		case jobs.ChannelEmail:
			ch.To = target
		case jobs.ChannelWebhook:
			ch.URL = target
		default:
			return nil, fmt.Errorf("--channel %q: type must be slack, email or webhook", s)
		}
		out = append(out, ch)
	}
	return out, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

var freezeVerbs = []command{
	{"create", "start a deployment freeze (admins)", freezeCreate},
	{"list", "list the freezes in force or to come", freezeList},
	{"lift", "end a freeze before its time (admins)", freezeLift},
}

func runFreeze(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr
		}
		fmt.Fprint(w, "Usage:\n  cla freeze <verb> [arguments] [flags]\n\nA deployment freeze refuses new jobs whose context matches it (environment.name,\ndeployment.slug) until it ends; with --block-completion, manual actions of such jobs\ncannot be completed either.\n\nVerbs:\n")
		for _, v := range freezeVerbs {
			fmt.Fprintf(w, "  %-7s %s\n", v.name, v.summary)
		}
		fmt.Fprint(w, "\nExamples:\n  cla freeze create --reason \"quarter-end change freeze\" --until 2026-03-31T23:59:00Z --environment production\n  cla freeze list\n  cla freeze lift fz-abcdefgh\n")
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	for _, v := range freezeVerbs {
		if v.name == args[0] {
			return v.run(ctx, e, args[1:])
		}
	}
	e.errorf("unknown freeze verb %q\nRun 'cla freeze --help' for the list.", args[0])
	return exitError
}

func freezeCreate(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var in jobs.NewFreeze
	var until, from string
	var envs, deps listFlag
	fs := newFlags(e, "freeze create", help{
		usage: "cla freeze create --reason TEXT --until TIME|DURATION [--from TIME] [--environment NAME]... [--deployment SLUG]... [--block-completion]",
		about: "Starts a deployment freeze; admins only. TIME is RFC 3339 (2026-03-14T18:00:00Z); a DURATION\n" +
			"(4h, PT4H) counts from now. No --environment and no --deployment freezes every job.",
		examples: `  cla freeze create --reason "quarter-end change freeze" --until 2026-03-31T23:59:00Z --environment production
  cla freeze create --reason "incident 42" --until 4h --deployment infra-rollout --block-completion`,
	})
	cf.register(fs, e)
	fs.StringVar(&in.Reason, "reason", "", "why deployments are frozen (required)")
	fs.StringVar(&until, "until", "", "when the freeze ends: RFC 3339 `TIME` or a DURATION from now (required)")
	fs.StringVar(&from, "from", "", "when it starts: RFC 3339 `TIME` (default now)")
	fs.Var(&envs, "environment", "freeze this environment `NAME` (repeatable)")
	fs.Var(&deps, "deployment", "freeze this deployment `SLUG` (repeatable)")
	fs.BoolVar(&in.BlockCompletion, "block-completion", false, "also refuse completing manual actions of matching jobs")
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	var err error
	if in.Until, err = freezeTime("--until", until, true); err == nil {
		in.From, err = freezeTime("--from", from, false)
	}
	if err != nil {
		e.errorf("freeze create: %v", err)
		return exitError
	}
	in.Environments, in.Deployments = envs, deps
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("freeze create: %v", err)
		return exitError
	}
	f, err := cl.CreateFreeze(ctx, in)
	if err != nil {
		return cf.fail(e, "create freeze", err)
	}
	cf.show(e, f, func(w io.Writer) { fmt.Fprintln(w, f.ID) })
	return exitOK
}

// freezeTime reads an RFC 3339 time or, when allowed, a duration from now.
func freezeTime(flag, v string, required bool) (*time.Time, error) {
	if v == "" {
		if required {
			return nil, fmt.Errorf("%s is required", flag)
		}
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	if flag == "--until" {
		if d, err := jobs.ParseDuration(v); err == nil {
			t := time.Now().Add(d)
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%s %q must be an RFC 3339 time like 2026-03-14T18:00:00Z%s", flag, v,
		map[bool]string{true: " or a duration like 4h", false: ""}[flag == "--until"])
}

func freezeList(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	fs := newFlags(e, "freeze list", help{usage: "cla freeze list [flags]", about: "Lists the freezes that have not ended; admins only.",
		examples: "  cla freeze list\n  cla freeze list --output json"})
	cf.register(fs, e)
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("freeze list: %v", err)
		return exitError
	}
	list, err := cl.Freezes(ctx)
	if err != nil {
		return cf.fail(e, "list freezes", err)
	}
	cf.show(e, map[string]any{"freezes": list}, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no freezes")
		}
		for _, f := range list {
			scope := "everything"
			if len(f.Environments)+len(f.Deployments) > 0 {
				scope = strings.Join(append(append([]string(nil), f.Environments...), f.Deployments...), ",")
			}
			block := ""
			if f.BlockCompletion {
				block = " (blocks completion)"
			}
			fmt.Fprintf(w, "%s\tuntil %s\t%s\t%s%s\n", f.ID, f.Until.UTC().Format(time.RFC3339), scope, f.Reason, block)
		}
	})
	return exitOK
}

func freezeLift(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	fs := newFlags(e, "freeze lift", help{usage: "cla freeze lift <freeze-id> [flags]", about: "Ends a freeze before its time; admins only.",
		examples: "  cla freeze lift fz-abcdefgh"})
	cf.register(fs, e)
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("freeze lift: %v", err)
		return exitError
	}
	if err := cl.LiftFreeze(ctx, pos[0]); err != nil {
		return cf.fail(e, "lift freeze "+pos[0], err)
	}
	cf.show(e, map[string]string{"id": pos[0], "status": "lifted"}, func(w io.Writer) { fmt.Fprintf(w, "lifted %s\n", pos[0]) })
	return exitOK
}

package main

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/internal/talkback"
)

func runTalkback(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "check" {
		w := e.stderr
		code := exitError
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			w, code = e.stdout, exitOK
		} else if len(args) > 0 {
			e.errorf("unknown talkback verb %q%s", args[0], suggest(args[0], []string{"check"}))
		}
		fmt.Fprint(w, "Usage:\n  cla talkback check <file>\n\nChecks a TalkBack allowlist (YAML) the way 'cla serve --talkback' loads it: every\n"+
			"mistake is reported as file:line: reason. Exit 0 when the file is good, 1 when it is not.\n\n"+
			"Examples:\n  cla talkback check talkback.yaml\n")
		return code
	}
	fs := newFlags(e, "talkback check", help{usage: "cla talkback check <file>",
		about:    "Checks a TalkBack allowlist file; exit 0 good, 1 bad (every mistake as file:line: reason), 2 usage.",
		examples: "  cla talkback check talkback.yaml"})
	pos, code, ok := parse(e, fs, args[1:], 1)
	if !ok {
		return code
	}
	if _, err := talkback.Load(pos[0]); err != nil {
		errs := talkback.ConfigErrors(err)
		if len(errs) == 0 {
			e.errorf("talkback check: %v", err)
			return exitError
		}
		for _, ce := range errs {
			fmt.Fprintln(e.stderr, ce.Error())
		}
		e.errorf("%s: %d problem(s)", pos[0], len(errs))
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", pos[0])
	return exitOK
}

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

func jobCheck(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var uncheck bool
	fs := newFlags(e, "job check", help{usage: "cla job check <job> <item-number> [--uncheck] [flags]",
		about: "Ticks (or with --uncheck, unticks) one checklist item of the job's open gate. Items are\n" +
			"numbered from 1 as 'cla job show' lists them. An action with a checklist completes only when\n" +
			"every item is ticked.",
		examples: "  cla job check qa-1234 1\n  cla job check qa-1234 2 --uncheck"})
	cf.register(fs, e)
	fs.BoolVar(&uncheck, "uncheck", false, "untick the item")
	pos, code, ok := parse(e, fs, args, 2)
	if !ok {
		return code
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil || n < 1 {
		e.errorf("job check: the item number must be 1 or more, not %q", pos[1])
		return exitError
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job check: %v", err)
		return exitError
	}
	job, err := cl.Check(ctx, pos[0], n-1, !uncheck)
	if err != nil {
		return cf.fail(e, fmt.Sprintf("check item %d of %s", n, pos[0]), err)
	}
	cf.show(e, job, func(w io.Writer) { printJob(w, job) })
	return exitOK
}

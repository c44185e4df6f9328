package main

import (
	"context"
	"fmt"
	"io"
)

func runWebLogin(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	fs := newFlags(e, "web-login", help{usage: "cla web-login [flags]",
		about: "Prints a one-time link that signs your browser in to the web monitor as the identity of\n" +
			"your API token. The link works once and expires after 10 minutes.",
		examples: "  cla web-login\n  xdg-open \"$(cla web-login)\""})
	cf.register(fs, e)
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("web-login: %v", err)
		return exitError
	}
	link, err := cl.WebLogin(ctx)
	if err != nil {
		return cf.fail(e, "web-login", err)
	}
	cf.show(e, map[string]string{"url": link}, func(w io.Writer) { fmt.Fprintln(w, link) })
	return exitOK
}

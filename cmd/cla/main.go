// Command cla is the cla server and its command-line client: `cla serve`
// runs the HTTP API, timers and (when configured) the Slack bot; every other
// subcommand talks to a running server over the /v1 API.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK     = 0 // done; with --wait: the gate passed
	exitFailed = 1 // with --wait / wait: the gate failed, was rejected, timed out, or the job was cancelled
	exitError  = 2 // usage error, server unreachable, or the server refused the request
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv})
	stop()
	os.Exit(code)
}

// env is the process environment a subcommand sees; tests supply their own.
type env struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
}

func (e *env) getenv(key string) string {
	v, _ := e.lookupEnv(key)
	return v
}

func (e *env) errorf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "cla: "+format+"\n", args...)
}

// command is one subcommand of the dispatcher.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "run the server: HTTP API, web monitor, timers, Slack bot", runServe},
		{"job", "create, list, show, follow, annotate or cancel jobs", runJob},
		{"gate", "open a manual step (action, approval, pause, trap) on a job", runGate},
		{"complete", "complete the job's open manual action", resolveCmd("complete")},
		{"fail", "fail the job's open manual action", resolveCmd("fail")},
		{"approve", "approve the job's open approval", resolveCmd("approve")},
		{"reject", "reject the job's open approval", resolveCmd("reject")},
		{"resume", "resume the job's open pause", resolveCmd("resume")},
		{"decide", "answer the job's open trap: retry, skip or abort", runDecide},
		{"wait", "wait until the open gate is resolved or the job ends", runWait},
		{"reassign", "give the job's open gate to other assignees", runReassign},
		{"talkback", "check a TalkBack allowlist file", runTalkback},
		{"web-login", "print a one-time link that signs a browser in to the web monitor", runWebLogin},
		{"run", "run a workflow file (shell steps, notifications, gates)", runWorkflow},
		{"migrate", "copy a bbolt database into PostgreSQL and verify the counts", runMigrate},
		{"sandbox", "start a demo in the sandbox Slack (cla sandbox demo)", runSandbox},
		{"freeze", "start, list or lift deployment freezes", runFreeze},
	}
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 && name == "help" {
			return run(ctx, []string{args[1], "--help"}, e)
		}
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	hint := suggest(name, commandNames())
	for _, v := range jobVerbs {
		if v.name == name {
			hint = fmt.Sprintf(" (did you mean \"cla job %s\"?)", name)
		}
	}
	e.errorf("unknown command %q%s\nRun 'cla --help' for the list of commands.", name, hint)
	return exitError
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func usage(w io.Writer) {
	fmt.Fprint(w, `cla - manual steps (actions, approvals, pauses, traps) for deployment jobs,
resolved from Slack, the web monitor, the API or this CLI.

Usage:
  cla <command> [arguments] [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Client flags (every command but serve):
  --server URL     API base URL (env CLA_SERVER, default http://127.0.0.1:8080)
  --token TOKEN    API bearer token (env CLA_TOKEN; else the cla.token file
                   'cla serve' wrote next to its database, see --db)
  --output json    print machine-readable JSON instead of text

Exit codes: 0 done (or the gate passed), 1 the gate failed, was rejected,
timed out or the job was cancelled (--wait and 'cla wait'), 2 usage error,
server unreachable or request refused.

Examples:
  cla serve --db /var/lib/cla/cla.db --addr 0.0.0.0:8080
  cla job create --id qa-1234 --name "Deploy v3.1.0"
  cla gate qa-1234 --kind action --name "Swap failed disk" --assignee ops --require-evidence --wait
  cla complete qa-1234 --evidence-url https://tickets.example.com/42
  cla job log qa-1234 --follow

Run 'cla <command> --help' for details of one command.
`)
}

// suggest returns " (did you mean X?)" for the nearest known name.
func suggest(name string, known []string) string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, k := range known {
		d := distance(name, k)
		if strings.HasPrefix(k, name) && len(name) >= 2 {
			d = 0
		}
		if d <= max(2, len(k)/3) && d < len(k) {
			cs = append(cs, cand{k, d})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	return fmt.Sprintf(" (did you mean %q?)", cs[0].name)
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cla-ops/cla/internal/workflow"
)

// pausedExitFlag is --paused-exit-code: unset means the state store's
// default (3 for file and server, 0 for gitlab and github).
type pausedExitFlag struct{ code *int }

// String implements flag.Value.
func (p *pausedExitFlag) String() string {
	if p == nil || p.code == nil {
		return ""
	}
	return fmt.Sprint(*p.code)
}

// Set implements flag.Value.
func (p *pausedExitFlag) Set(v string) error {
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(v) {
		return fmt.Errorf("not a whole number")
	}
	p.code = &n
	return nil
}

const runAbout = `Runs a workflow file: steps (shell, slack.notify, webhook, gate) in dependency
order, independent ones in parallel. A step with pause: true stops the run after
it with its state saved; running the same command again continues where it
stopped, and finished steps never run again. A failing step with trap: true asks
a person (Slack, API, web, CLI) to retry, skip or abort; gates and traps need
--server.

Without a file argument, cla run looks for workflow.json, workflow.yaml or
workflow.yml in the working directory, then in .cla/; it refuses to guess when
it finds none or several.

State stores (--state-store):
  file     <state-dir>/<name>.json (default .cla/state); a pause exits 3
  gitlab   $CI_PROJECT_DIR/.cla/state: keep .cla/state/ as a job artifact; a pause
           exits 0 with "paused after <step>; run the resume job"
  github   $GITHUB_WORKSPACE/.cla/state: upload and download it as an artifact;
           a pause exits 0 like gitlab
  server   on the run's cla job (needs --server and a run id)

Exit codes: 0 done, 1 failed, 2 usage or config error, 3 paused (file and server
stores; see --paused-exit-code).`

const runExamples = `  cla run release.workflow.yaml
  cla run -state-store gitlab -fresh          # first GitLab job (shiro's pattern)
  cla run -state-store gitlab                 # the manual resume job
  cla run --server https://cla.example.com --run-id "$CI_PIPELINE_ID" release.workflow.yaml
  cla run --fresh --output json release.workflow.yaml`

// runWorkflow is `cla run`: it reads the command line like every other
// command (--flag or -flag; a mistake prints the usage line) and hands the
// run to the workflow runner. Like every other client verb it finds the
// admin token next to the database when neither --token nor CLA_TOKEN is
// given.
func runWorkflow(ctx context.Context, e *env, args []string) int {
	var inv workflow.Invocation
	var paused pausedExitFlag
	var db string
	fs := newFlags(e, "run", help{usage: "cla run [<workflow-file>] [flags]", about: runAbout, examples: runExamples})
	fs.StringVar(&inv.StateStore, "state-store", workflow.StoreFile, "where the run's state lives: `STORE` file, gitlab, github or server")
	fs.StringVar(&inv.StateDir, "state-dir", "", "`DIR` of state files (file, gitlab, github stores; default .cla/state)")
	fs.StringVar(&inv.Server, "server", e.getenv("CLA_SERVER"), "cla server `URL`, for gates, traps and the server store (env CLA_SERVER)")
	fs.StringVar(&inv.Token, "token", "", "API bearer `TOKEN` (env CLA_TOKEN; else cla.token next to --db)")
	fs.StringVar(&db, "db", envOr(e, "CLA_DB", "cla.db"), "database `PATH` of a local server, to find its cla.token (env CLA_DB)")
	fs.StringVar(&inv.RunID, "run-id", "", "`ID` of a new run (default $CLA_RUN_ID, $CI_PIPELINE_ID, $GITHUB_RUN_ID or random)")
	fs.StringVar(&inv.Output, "output", "text", "output `FORMAT`: text or json")
	fs.IntVar(&inv.Parallel, "parallel", 4, "steps to run at once")
	fs.BoolVar(&inv.Fresh, "fresh", false, "ignore saved state and start over")
	fs.BoolVar(&inv.NoWait, "no-wait", false, "save and stop at an open gate or trap instead of waiting")
	fs.Var(&paused, "paused-exit-code", "exit `CODE` of a pause (default 3; 0 with the gitlab and github stores)")
	fs.BoolVar(&inv.Verbose, "v", false, "log internals to stderr")
	pos, code, ok := parse(e, fs, args, -1)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		usageError(e, fs, fs.Usage, fmt.Sprintf("unexpected argument %q (one workflow file at most)", pos[1]))
		return exitError
	}
	if len(pos) == 1 {
		inv.File = pos[0]
	}
	inv.PausedExitCode = paused.code
	if inv.Token == "" {
		inv.Token = e.getenv("CLA_TOKEN")
	}
	if inv.Token == "" {
		if data, err := os.ReadFile(tokenPath(db)); err == nil {
			inv.Token = strings.TrimSpace(string(data))
		}
	}
	inv.Env = environ(e)
	return workflow.Execute(ctx, inv, e.stdout, e.stderr)
}

// envOr is the environment variable key, or def when it is unset.
func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// environ is the environment the workflow's templates and steps see: the
// process's, as the env of this command reports it.
func environ(e *env) map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		if k, _, ok := strings.Cut(kv, "="); ok {
			if v, ok := e.lookupEnv(k); ok {
				out[k] = v
			}
		}
	}
	return out
}

var _ flag.Value = (*pausedExitFlag)(nil)

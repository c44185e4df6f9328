package workflow

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

// flags are the command line of `cla run`.
type flags struct {
	file       string
	stateStore string
	stateDir   string
	server     string
	token      string
	runID      string
	output     string
	parallel   int
	fresh      bool
	noWait     bool
	verbose    bool
}

const runUsage = `Usage:
  cla run [flags] <workflow.yaml|json>

Runs a workflow file: steps (shell, slack.notify, webhook, gate) in dependency
order, independent ones in parallel. A step with pause: true stops the run after
it (exit 3) with its state saved; running the same command again continues where
it stopped, and finished steps never run again. A failing step with trap: true
asks a person (Slack, API, web, CLI) to retry, skip or abort; gates and traps need
--server.

Exit codes: 0 done, 1 failed, 2 usage or config error, 3 paused (run again to resume).

Examples:
  cla run release.workflow.yaml
  cla run --server https://cla.example.com --run-id "$CI_PIPELINE_ID" release.workflow.yaml
  cla run --fresh --output json release.workflow.yaml

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("cla run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.stateStore, "state-store", "file", "where the run's state lives: file or server")
	fs.StringVar(&f.stateDir, "state-dir", ".cla/state", "directory of state files (file store)")
	fs.StringVar(&f.server, "server", os.Getenv("CLA_SERVER"), "cla server URL (env CLA_SERVER)")
	fs.StringVar(&f.token, "token", "", "API token (default: env CLA_TOKEN)")
	fs.StringVar(&f.runID, "run-id", "", "run id of a new run (default: $CI_PIPELINE_ID, $GITHUB_RUN_ID or random)")
	fs.StringVar(&f.output, "output", "text", "text or json")
	fs.IntVar(&f.parallel, "parallel", 4, "steps to run at once")
	fs.BoolVar(&f.fresh, "fresh", false, "ignore saved state and start over")
	fs.BoolVar(&f.noWait, "no-wait", false, "save and exit 3 at an open gate or trap instead of waiting")
	fs.BoolVar(&f.verbose, "v", false, "log internals to stderr")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return nil, errors.New("want exactly one workflow file")
	}
	f.file = positional[0]
	return f, f.validate()
}

func (f *flags) validate() error {
	switch {
	case f.stateStore != "file" && f.stateStore != "server":
		return fmt.Errorf("--state-store must be file or server, not %q", f.stateStore)
	case f.stateStore == "server" && f.server == "":
		return errors.New("--state-store server needs --server (or CLA_SERVER)")
	case f.output != "text" && f.output != "json":
		return fmt.Errorf("--output must be text or json, not %q", f.output)
	case f.parallel < 1:
		return errors.New("--parallel must be at least 1")
	}
	if f.token == "" {
		f.token = os.Getenv("CLA_TOKEN")
	}
	if f.runID == "" {
		f.runID = firstEnv("CLA_RUN_ID", "CI_PIPELINE_ID", "GITHUB_RUN_ID")
	}
	if f.stateStore == "server" && f.runID == "" {
		return errors.New("--state-store server needs --run-id (or CI_PIPELINE_ID / GITHUB_RUN_ID) to find the run's job")
	}
	return nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Main is `cla run`: args are those after "run". It returns the exit code:
// 0 done, 1 failed, 2 usage or config error, 3 paused.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitDone
	}
	if err != nil {
		fmt.Fprintln(stderr, "cla run:", err)
		return ExitUsage
	}
	src, err := os.ReadFile(f.file)
	if err != nil {
		fmt.Fprintln(stderr, "cla run:", err)
		return ExitUsage
	}
	w, err := Parse(f.file, src)
	if err != nil {
		fmt.Fprintln(stderr, "cla run:", err)
		return ExitUsage
	}
	opts := f.options(w, stdout, stderr)
	sum, err := Run(ctx, w, opts)
	if err != nil {
		opts.Reporter.Finish(sum)
		fmt.Fprintln(stderr, "cla run:", err)
		return ExitUsage
	}
	return sum.ExitCode
}

func (f *flags) options(w *Workflow, stdout, stderr io.Writer) Options {
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	opts := Options{Parallel: f.parallel, NoWait: f.noWait, Fresh: f.fresh, RunID: f.runID, Env: environ(),
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if f.server != "" {
		c := client.New(f.server, f.token)
		c.Via = jobs.ViaCLI
		opts.Server = c
	}
	opts.Store = NewFileStore(f.stateDir, w.Name)
	if f.stateStore == "server" {
		opts.Store = &ServerStore{Server: opts.Server, JobID: JobID(w.Name, f.runID)}
	}
	switch {
	case f.output == "json":
		opts.Reporter = JSONReporter{W: stdout}
	case isTerminal(stdout):
		ids := make([]string, len(w.Steps))
		for i, s := range w.Steps {
			ids[i] = s.ID
		}
		opts.Reporter = NewTableReporter(stdout, ids)
	default:
		opts.Reporter = NewLineReporter(stdout)
	}
	return opts
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// isTerminal reports whether w is a character device (a terminal), by
// stat: no terminal library needed.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

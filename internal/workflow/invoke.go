package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

// State stores `cla run` knows.
const (
	// StoreFile keeps the state in <state-dir>/<name>.json; a pause exits 3.
	StoreFile = "file"
	// StoreServer keeps the state on the run's cla job.
	StoreServer = "server"
	// StoreGitLab is the file store in the directory GitLab carries between
	// jobs as artifacts ($CI_PROJECT_DIR/.cla/state); a pause exits 0 so
	// that the manual resume job can run.
	StoreGitLab = "gitlab"
	// StoreGitHub is the same for GitHub Actions ($GITHUB_WORKSPACE/.cla/state,
	// carried with actions/upload-artifact and download-artifact).
	StoreGitHub = "github"
)

// DefaultStateDir is where the file, gitlab and github stores keep state,
// relative to the working directory (file) or to the CI's checkout
// (gitlab: $CI_PROJECT_DIR, github: $GITHUB_WORKSPACE).
const DefaultStateDir = ".cla/state"

// Invocation is one `cla run` as its command line asked for it; cmd/cla
// fills it from flags and the environment.
type Invocation struct {
	// File is the workflow file; empty means Discover in Dir.
	File string
	// Dir is the working directory that relative paths and discovery use;
	// empty means the process's.
	Dir string
	// StateStore is file (default), server, gitlab or github.
	StateStore string
	// StateDir overrides where the file, gitlab and github stores keep
	// state.
	StateDir string
	// Server and Token reach the cla API; Server may be empty.
	Server, Token string
	// RunID names a new run.
	RunID string
	// Output is text (default) or json.
	Output string
	// Parallel bounds the steps run at once.
	Parallel int
	// Fresh, NoWait and Verbose are the flags of the same names.
	Fresh, NoWait, Verbose bool
	// PausedExitCode is the exit code of a pause; nil means the store's
	// default (3 for file and server, 0 for gitlab and github).
	PausedExitCode *int
	// Env is the environment templates and conditions see, and where CI
	// variables are read from.
	Env map[string]string
}

// Validate checks the invocation before anything is read or run, and fills
// defaults that come from the environment. Its errors are usage errors.
func (inv *Invocation) Validate() error {
	if inv.StateStore == "" {
		inv.StateStore = StoreFile
	}
	if inv.Output == "" {
		inv.Output = "text"
	}
	if inv.Parallel == 0 {
		inv.Parallel = 4
	}
	switch {
	case !contains([]string{StoreFile, StoreServer, StoreGitLab, StoreGitHub}, inv.StateStore):
		return fmt.Errorf("--state-store must be file, server, gitlab or github, not %q", inv.StateStore)
	case inv.StateStore == StoreServer && inv.Server == "":
		return errors.New("--state-store server needs --server (or CLA_SERVER)")
	case inv.Output != "text" && inv.Output != "json":
		return fmt.Errorf("--output must be text or json, not %q", inv.Output)
	case inv.Parallel < 1:
		return errors.New("--parallel must be at least 1")
	case inv.PausedExitCode != nil && (*inv.PausedExitCode < 0 || *inv.PausedExitCode > 125):
		return fmt.Errorf("--paused-exit-code must be from 0 to 125, not %d", *inv.PausedExitCode)
	}
	if inv.RunID == "" {
		inv.RunID = firstOf(inv.Env, "CLA_RUN_ID", "CI_PIPELINE_ID", "GITHUB_RUN_ID")
	}
	if inv.StateStore == StoreServer && inv.RunID == "" {
		return errors.New("--state-store server needs --run-id (or CI_PIPELINE_ID / GITHUB_RUN_ID) to find the run's job")
	}
	return nil
}

// pausedCode is the exit code of a pause for this invocation.
func (inv *Invocation) pausedCode() int {
	switch {
	case inv.PausedExitCode != nil:
		return *inv.PausedExitCode
	case inv.ciStore():
		return ExitDone
	}
	return ExitPaused
}

func (inv *Invocation) ciStore() bool {
	return inv.StateStore == StoreGitLab || inv.StateStore == StoreGitHub
}

// stateDir is the directory of the file-based stores.
func (inv *Invocation) stateDir() string {
	dir := inv.StateDir
	if dir == "" {
		dir = DefaultStateDir
		switch inv.StateStore {
		case StoreGitLab:
			dir = joinIfSet(inv.Env["CI_PROJECT_DIR"], dir)
		case StoreGitHub:
			dir = joinIfSet(inv.Env["GITHUB_WORKSPACE"], dir)
		}
	}
	return inv.abs(dir)
}

func joinIfSet(base, dir string) string {
	if base == "" {
		return dir
	}
	return filepath.Join(base, dir)
}

// abs resolves a relative path against Dir.
func (inv *Invocation) abs(p string) string {
	if filepath.IsAbs(p) || inv.Dir == "" {
		return p
	}
	return filepath.Join(inv.Dir, p)
}

func firstOf(env map[string]string, names ...string) string {
	for _, n := range names {
		if v := env[n]; v != "" {
			return v
		}
	}
	return ""
}

// Execute is `cla run` once its command line is read: it finds and parses
// the workflow, runs it and returns the exit code (0 done, 1 failed, 2
// usage or config error, 3 paused unless the store or --paused-exit-code
// says otherwise). Each error is printed once, to stderr.
func Execute(ctx context.Context, inv Invocation, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "cla run:", err)
		return ExitUsage
	}
	if err := inv.Validate(); err != nil {
		return fail(err)
	}
	file := inv.abs(inv.File)
	if inv.File == "" {
		found, err := Discover(inv.abs("."))
		if err != nil {
			return fail(err)
		}
		file = found
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fail(fmt.Errorf("read workflow: %w", err))
	}
	w, err := Parse(displayPath(inv, file), src)
	if err != nil {
		var pe ParseErrors
		if errors.As(err, &pe) && len(pe) > 1 {
			fmt.Fprintf(stderr, "cla run: %d mistakes in %s:\n%s\n", len(pe), displayPath(inv, file), err)
			return ExitUsage
		}
		return fail(err)
	}
	opts := inv.options(w, stdout, stderr)
	sum, err := Run(ctx, w, opts)
	if err != nil {
		return fail(err)
	}
	return sum.ExitCode
}

// displayPath names the file as the person typed it, or relative to Dir
// when it was discovered.
func displayPath(inv Invocation, file string) string {
	if inv.File != "" {
		return inv.File
	}
	if rel, err := filepath.Rel(inv.abs("."), file); err == nil {
		return rel
	}
	return file
}

func (inv *Invocation) options(w *Workflow, stdout, stderr io.Writer) Options {
	level := slog.LevelWarn
	if inv.Verbose {
		level = slog.LevelDebug
	}
	opts := Options{Parallel: inv.Parallel, NoWait: inv.NoWait, Fresh: inv.Fresh, RunID: inv.RunID, Env: inv.Env,
		Dir: inv.Dir, PausedExitCode: ptr(inv.pausedCode()), PauseHint: "run cla run again to resume",
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if inv.ciStore() {
		opts.PauseHint = "run the resume job"
	}
	if inv.Server != "" {
		c := client.New(inv.Server, inv.Token)
		c.Via = jobs.ViaCLI
		opts.Server = c
	}
	opts.Store = NewFileStore(inv.stateDir(), w.Name)
	if inv.StateStore == StoreServer {
		opts.Store = &ServerStore{Server: opts.Server, JobID: JobID(w.Name, inv.RunID)}
	}
	switch {
	case inv.Output == "json":
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

// Environ is the process environment as a map, for Invocation.Env.
func Environ() map[string]string {
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

func ptr[T any](v T) *T { return &v }

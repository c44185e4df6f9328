package talkback

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxQueued is how many commands may wait for a slot by default.
const DefaultMaxQueued = 4

// ExecutorConfig sets the limits of an Executor. Zero values take defaults.
type ExecutorConfig struct {
	// MaxPerJob is how many commands may run at once for one job (default 1).
	// One more is refused at once: a chat user should not queue up restarts.
	MaxPerJob int
	// MaxTotal is how many commands may run at once on the server (default 4).
	// One more waits for a slot until its context ends (then it is refused).
	MaxTotal int
	// MaxQueued is how many commands may wait for a slot at once
	// (DefaultMaxQueued); one more is refused at once. A waiting command
	// holds the Slack handler that asked for it, so an unbounded queue let
	// a burst of requests take every handler until the commands ended.
	MaxQueued int
	// Path is the PATH commands get (default: the server's PATH at start).
	// No other variable is inherited.
	Path   string
	Logger *slog.Logger
}

// Executor runs Invocations: argv only (never a shell), an explicit
// environment, its own process group killed as a whole on timeout, and
// output capped. It is safe for concurrent use.
type Executor struct {
	cfg    ExecutorConfig
	log    *slog.Logger
	slots  chan struct{}
	queued atomic.Int64

	mu     sync.Mutex
	perJob map[string]int

	// expire says when a command's timeout has passed: a timer by default;
	// a test ends it on a condition instead of racing the clock.
	expire func(timeout time.Duration) <-chan time.Time
}

// NewExecutor returns an Executor with cfg's limits.
func NewExecutor(cfg ExecutorConfig) *Executor {
	if cfg.MaxPerJob <= 0 {
		cfg.MaxPerJob = 1
	}
	if cfg.MaxTotal <= 0 {
		cfg.MaxTotal = 4
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.Path == "" {
		cfg.Path = os.Getenv("PATH")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Executor{cfg: cfg, log: log.With("component", "talkback"),
		slots: make(chan struct{}, cfg.MaxTotal), perJob: map[string]int{}}
}

// Stats reports how many commands are running and waiting for a slot, for
// metrics and for tests that must know a command has started.
func (e *Executor) Stats() (running, queued int) {
	return len(e.slots), int(e.queued.Load())
}

// Run executes inv for job jobID and waits for it. A busy job gives a
// *Refusal; a command that fails or times out is a Result, not an error.
// Errors are for what the user cannot fix (program not found, bad workdir).
func (e *Executor) Run(ctx context.Context, jobID string, inv *Invocation) (*Result, error) {
	release, err := e.acquire(ctx, jobID)
	if err != nil {
		return nil, err
	}
	defer release()
	e.log.Info("command starting", "job", jobID, "action", inv.Action.Name,
		"argv", inv.Argv, "user", inv.Requester.ID)
	res, err := e.run(ctx, inv)
	if err != nil {
		e.log.Error("command failed to start", "job", jobID, "action", inv.Action.Name, "err", err)
		return nil, err
	}
	e.log.Info("command finished", "job", jobID, "action", inv.Action.Name, "exit", res.ExitCode,
		"timed_out", res.TimedOut, "canceled", res.Canceled, "duration", res.Duration, "truncated", res.Truncated)
	return res, nil
}

// acquire takes a per-job slot (refusing when full) and then a global slot
// (waiting, unless MaxQueued already wait); the returned func gives both
// back.
func (e *Executor) acquire(ctx context.Context, jobID string) (func(), error) {
	e.mu.Lock()
	if n := e.perJob[jobID]; n >= e.cfg.MaxPerJob {
		e.mu.Unlock()
		return nil, refusef("job %s already has %d command(s) running; wait for it to finish", jobID, n)
	}
	e.perJob[jobID]++
	e.mu.Unlock()
	releaseJob := func() {
		e.mu.Lock()
		if e.perJob[jobID]--; e.perJob[jobID] <= 0 {
			delete(e.perJob, jobID)
		}
		e.mu.Unlock()
	}
	select {
	case e.slots <- struct{}{}:
	default:
		if e.queued.Add(1) > int64(e.cfg.MaxQueued) {
			e.queued.Add(-1)
			releaseJob()
			return nil, refusef("too many commands are running or waiting on this server (%d may wait; limits.talkbackQueue); try again later", e.cfg.MaxQueued)
		}
		defer e.queued.Add(-1)
		select {
		case e.slots <- struct{}{}:
		case <-ctx.Done():
			releaseJob()
			return nil, refusef("too many commands are running on this server; try again later")
		}
	}
	return func() { <-e.slots; releaseJob() }, nil
}

// environ builds the whole environment: PATH, then the action's variables
// (which may override PATH).
func (e *Executor) environ(inv *Invocation) (env []string, path string) {
	path = e.cfg.Path
	for _, kv := range inv.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	env = append([]string{"PATH=" + path}, inv.Env...)
	return env, path
}

// lookPath finds a program in path. Unlike exec.LookPath it uses the
// command's PATH, not the server's, and skips relative entries.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("find program %s: not in PATH", name)
}

package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Exit codes of `cla run` (SPEC §8).
const (
	ExitDone   = 0
	ExitFailed = 1
	ExitUsage  = 2
	ExitPaused = 3
)

// Options configure a run. Zero values mean the defaults.
type Options struct {
	// Parallel bounds how many steps run at once; 4 by default.
	Parallel int
	// NoWait makes a run that meets an open gate (or trap) save and exit 3
	// instead of waiting for the decision.
	NoWait bool
	// Fresh ignores any saved state and starts over.
	Fresh bool
	// Env is what {{env.X}} and `env` in conditions see.
	Env map[string]string
	// Server is the cla API; nil without --server.
	Server Server
	// Store keeps the state between invocations.
	Store StateStore
	// RunID names a new run; random when empty.
	RunID string
	// Reporter shows progress; nothing is shown when nil.
	Reporter Reporter
	// Logger logs internals; discarded when nil.
	Logger *slog.Logger
	// HTTP is used by webhook and slack.notify steps.
	HTTP *http.Client
	// WaitPoll is how long one long-poll for a gate lasts; 60 s by default.
	WaitPoll time.Duration
	// Dir is where shell steps run (a step's config.dir is relative to
	// it); the process's working directory when empty.
	Dir string
	// PausedExitCode is the exit code of a paused run; nil means
	// ExitPaused (3). The CI stores choose 0 so that the CI's manual resume
	// job can run.
	PausedExitCode *int
	// PauseHint tells the person how to go on after a pause; "run cla run
	// again to resume" by default.
	PauseHint string
}

// Summary is the outcome of one invocation.
type Summary struct {
	Workflow string       `json:"workflow"`
	RunID    string       `json:"runId"`
	JobID    string       `json:"jobId,omitempty"`
	Status   string       `json:"status"`
	ExitCode int          `json:"exitCode"`
	Message  string       `json:"message,omitempty"`
	Steps    []StepReport `json:"steps"`
}

// StepReport is one step in a Summary.
type StepReport struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	ExitCode   int    `json:"exitCode"`
	Attempts   int    `json:"attempts,omitempty"`
	DurationMS int64  `json:"durationMs"`
	Error      string `json:"error,omitempty"`
	Gate       string `json:"gate,omitempty"`
	Outcome    string `json:"outcome,omitempty"`
}

// runner is one invocation of a workflow.
type runner struct {
	w    *Workflow
	opts Options
	log  *slog.Logger
	rep  Reporter

	mu sync.Mutex
	st *State
	// pausedAfter is the pause: true step the run stopped after.
	pausedAfter string
	launched    map[string]bool
	gateMu      sync.Mutex // a job has one open gate at a time
}

// Run runs (or resumes) a workflow and says how it ended. An error means
// nothing could run (a bad state, an unreachable server, a config error);
// then the reporter has not been told, and the caller reports the error.
func Run(ctx context.Context, w *Workflow, opts Options) (Summary, error) {
	r, err := newRunner(ctx, w, opts)
	if err != nil {
		return Summary{Workflow: w.Name, Status: "error", ExitCode: ExitUsage, Message: err.Error()}, err
	}
	if r.st.Status == RunDone {
		sum := r.summary(ExitDone, "already completed; use --fresh to run it again")
		r.rep.Finish(sum)
		return sum, nil
	}
	if err := r.start(ctx); err != nil {
		return r.summary(ExitUsage, err.Error()), err
	}
	sum := r.loop(ctx)
	r.rep.Finish(sum)
	return sum, nil
}

func newRunner(ctx context.Context, w *Workflow, opts Options) (*runner, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.WaitPoll <= 0 {
		opts.WaitPoll = 60 * time.Second
	}
	if opts.PauseHint == "" {
		opts.PauseHint = "run cla run again to resume"
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	r := &runner{w: w, opts: opts, rep: opts.Reporter, launched: map[string]bool{},
		log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "workflow", "workflow", w.Name)
	if r.rep == nil {
		r.rep = nopReporter{}
	}
	if err := checkRequirements(w, opts.Server != nil); err != nil {
		return nil, err
	}
	st, err := r.loadState(ctx)
	if err != nil {
		return nil, err
	}
	r.st = st
	return r, nil
}

// checkRequirements refuses, before anything runs, steps that cannot work
// without a server.
func checkRequirements(w *Workflow, haveServer bool) error {
	for _, s := range w.Steps {
		if haveServer {
			continue
		}
		if s.Type == TypeGate {
			return fmt.Errorf("step %q is a gate: gates need --server", s.ID)
		}
		if url, _ := s.Config["webhook_url"].(string); s.Type == TypeSlackNotify && url == "" {
			return fmt.Errorf("step %q: slack.notify needs config.webhook_url or --server", s.ID)
		}
	}
	return nil
}

func (r *runner) loadState(ctx context.Context) (*State, error) {
	if !r.opts.Fresh {
		st, err := r.opts.Store.Load(ctx)
		if err != nil {
			return nil, err
		}
		if st != nil {
			if err := checkState(st, r.w, storeName(r.opts.Store)); err != nil {
				return nil, err
			}
			if r.opts.Server != nil {
				if err := verifyGates(ctx, r.opts.Server, st, r.w); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
	}
	runID := r.opts.RunID
	if runID == "" {
		runID = randomID()
	}
	return newState(r.w, runID), nil
}

func storeName(s StateStore) string {
	if f, ok := s.(*FileStore); ok {
		return f.Path
	}
	if s, ok := s.(*ServerStore); ok {
		return "on job " + s.JobID
	}
	return "store"
}

func randomID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start makes the run's job when there is a server, puts interrupted and
// failed steps back to pending (at-least-once), and saves.
func (r *runner) start(ctx context.Context) error {
	if srv := r.opts.Server; srv != nil {
		if r.st.JobID == "" {
			r.st.JobID = JobID(r.w.Name, r.st.RunID)
		}
		if err := r.ensureLiveJob(ctx, srv); err != nil {
			return err
		}
		if _, err := srv.Progress(ctx, r.st.JobID, jobs.StatusInProgress, "cla run "+r.w.Name); err != nil {
			r.log.Debug("mark job in progress", "job", r.st.JobID, "err", err)
		}
	}
	for _, s := range r.w.Steps {
		ss := r.st.Steps[s.ID]
		switch ss.Status {
		case StepRunning:
			r.rep.Info(fmt.Sprintf("step %s was interrupted; running it again", s.ID))
			ss.Status = StepPending
		case StepFailed:
			ss.Status, ss.Error = StepPending, ""
		}
	}
	r.st.Status = RunRunning
	return r.save(ctx)
}

// ensureLiveJob creates or finds the run's job. When a failed run is
// resumed, its job has ended and accepts no gates, so the run goes on as a
// new job; steps that waited on the old job's gates start over.
func (r *runner) ensureLiveJob(ctx context.Context, srv Server) error {
	job, err := ensureJob(ctx, srv, r.st.JobID, r.w.Name, r.st.RunID)
	if err != nil || !job.Status.Terminal() || r.st.Status != RunFailed {
		return err // a paused run reads its gates' outcomes from the ended job first
	}
	old := r.st.JobID
	r.st.JobID = JobID(r.w.Name, r.st.RunID+"-"+randomID()[:6])
	if _, err := ensureJob(ctx, srv, r.st.JobID, r.w.Name, r.st.RunID); err != nil {
		return err
	}
	for _, ss := range r.st.Steps {
		if ss.Status == StepWaiting {
			ss.Status, ss.Gate, ss.GateKind = StepPending, "", ""
		}
	}
	r.rep.Info(fmt.Sprintf("job %s is %s; this attempt continues as job %s", old, job.Status, r.st.JobID))
	return nil
}

// save writes the state; the caller must not hold r.mu.
func (r *runner) save(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saveLocked(ctx)
}

func (r *runner) saveLocked(ctx context.Context) error {
	r.st.UpdatedAt = time.Now().UTC()
	if err := r.opts.Store.Save(context.WithoutCancel(ctx), r.st); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// update changes one step's state and saves it at once.
func (r *runner) update(ctx context.Context, id string, fn func(*StepState)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.st.Steps[id])
	return r.saveLocked(ctx)
}

// vars snapshots what templates and conditions see.
func (r *runner) vars() Vars {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := Vars{Env: r.opts.Env, Steps: map[string]StepResult{}}
	for id, ss := range r.st.Steps {
		switch ss.Status {
		case StepSucceeded, StepSkipped, StepFailed:
			v.Steps[id] = ss.Result()
		}
	}
	return v
}

func (r *runner) summary(code int, msg string) Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Workflow: r.w.Name, RunID: r.st.RunID, JobID: r.st.JobID, Status: r.st.Status, ExitCode: code, Message: msg}
	for _, step := range r.w.Steps {
		ss := r.st.Steps[step.ID]
		s.Steps = append(s.Steps, StepReport{ID: step.ID, Status: ss.Status, ExitCode: ss.ExitCode, Attempts: ss.Attempts,
			DurationMS: ss.Duration().Milliseconds(), Error: ss.Error, Gate: ss.Gate, Outcome: ss.Outcome})
	}
	return s
}

package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StateFormat is the version of the state file layout; a file of another
// format is refused rather than guessed at.
const StateFormat = 1

// Run statuses as saved in the state.
const (
	RunRunning = "running"
	RunPaused  = "paused"
	RunFailed  = "failed"
	RunDone    = "done"
)

// Step statuses. A step is recorded as running before it starts (so a
// crash makes it run again on resume) and waiting while a gate it opened
// (a gate step or a trap) is still open.
const (
	StepPending   = "pending"
	StepRunning   = "running"
	StepWaiting   = "waiting"
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepSkipped   = "skipped"
)

// State is everything a later `cla run` needs to continue a run.
type State struct {
	Format    int                   `json:"format"`
	Workflow  string                `json:"workflow"`
	Hash      string                `json:"hash"`
	RunID     string                `json:"runId"`
	JobID     string                `json:"jobId,omitempty"`
	Status    string                `json:"status"`
	Steps     map[string]*StepState `json:"steps"`
	UpdatedAt time.Time             `json:"updatedAt"`
}

// StepState is one step's progress in a run.
type StepState struct {
	Status    string     `json:"status"`
	Output    string     `json:"output,omitempty"`
	ExitCode  int        `json:"exitCode"`
	Attempts  int        `json:"attempts,omitempty"`
	Error     string     `json:"error,omitempty"`
	Gate      string     `json:"gate,omitempty"`
	GateKind  string     `json:"gateKind,omitempty"`
	Outcome   string     `json:"outcome,omitempty"`
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// Result is what templates and conditions see of the step.
func (s *StepState) Result() StepResult {
	return StepResult{Status: s.Status, Output: s.Output, ExitCode: s.ExitCode}
}

// Duration is how long the step ran, zero if it has not ended.
func (s *StepState) Duration() time.Duration {
	if s.StartedAt == nil || s.EndedAt == nil {
		return 0
	}
	return s.EndedAt.Sub(*s.StartedAt)
}

// StateError says a saved state cannot be used; nothing runs.
type StateError struct{ Msg string }

// Error implements error.
func (e *StateError) Error() string { return e.Msg }

// StateStore keeps a run's state between `cla run` invocations.
type StateStore interface {
	// Load returns the saved state, or nil when there is none.
	Load(ctx context.Context) (*State, error)
	// Save replaces the saved state atomically.
	Save(ctx context.Context, st *State) error
}

// newState is the state of a run that has not started.
func newState(w *Workflow, runID string) *State {
	st := &State{Format: StateFormat, Workflow: w.Name, Hash: w.Hash, RunID: runID, Status: RunRunning,
		Steps: map[string]*StepState{}}
	for _, s := range w.Steps {
		st.Steps[s.ID] = &StepState{Status: StepPending}
	}
	return st
}

// checkState refuses a state saved by another workflow, another version
// of this one, or another format.
func checkState(st *State, w *Workflow, where string) error {
	switch {
	case st.Format != StateFormat:
		return &StateError{fmt.Sprintf("state %s has format %d; this cla writes format %d (use --fresh to start over)", where, st.Format, StateFormat)}
	case st.Workflow != w.Name:
		return &StateError{fmt.Sprintf("state %s belongs to workflow %q, not %q", where, st.Workflow, w.Name)}
	case st.Hash != w.Hash:
		return &StateError{fmt.Sprintf("state %s was saved for another version of the workflow file (hash %.12s, now %.12s); use --fresh to start over", where, st.Hash, w.Hash)}
	}
	for _, s := range w.Steps {
		if st.Steps[s.ID] == nil {
			return &StateError{fmt.Sprintf("state %s has no entry for step %q", where, s.ID)}
		}
	}
	return nil
}

// FileStore keeps the state in one JSON file, replaced atomically.
type FileStore struct{ Path string }

// NewFileStore returns the store for a workflow in dir: <dir>/<name>.json.
func NewFileStore(dir, name string) *FileStore {
	return &FileStore{Path: filepath.Join(dir, name+".json")}
}

// Load implements StateStore. A file that is not valid state is an error:
// resuming from a guess could run a step twice or skip one.
func (f *FileStore) Load(context.Context) (*State, error) {
	raw, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return decodeState(raw, f.Path)
}

func decodeState(raw []byte, where string) (*State, error) {
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, &StateError{fmt.Sprintf("state %s is corrupted (%v); fix or remove it, or use --fresh", where, err)}
	}
	if st.Steps == nil || st.Workflow == "" {
		return nil, &StateError{fmt.Sprintf("state %s is not a cla run state; fix or remove it, or use --fresh", where)}
	}
	return &st, nil
}

// Save implements StateStore: write a temporary file, fsync, rename over
// the old one, fsync the directory. A crash leaves the old or the new
// state, never a torn one.
func (f *FileStore) Save(_ context.Context, st *State) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(f.Path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	defer d.Close()
	_ = d.Sync() // not supported everywhere; the rename is what matters
	return nil
}

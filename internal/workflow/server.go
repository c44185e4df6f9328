package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

// Server is the part of the cla API the runner calls. *client.Client
// (web/client) implements it; tests may pass a fake.
type Server interface {
	CreateJob(ctx context.Context, in jobs.NewJob) (*jobs.Job, error)
	GetJob(ctx context.Context, id string) (*jobs.Job, error)
	WaitJob(ctx context.Context, id string, since uint64, wait time.Duration) (*jobs.Job, error)
	Progress(ctx context.Context, id string, status jobs.Status, msg string) (*jobs.Job, error)
	OpenGate(ctx context.Context, id string, cfg jobs.GateConfig) (*jobs.Gate, error)
	Annotate(ctx context.Context, id string, a jobs.NewAnnotation) error
	Log(ctx context.Context, id string, after uint64) ([]jobs.LogEntry, error)
	// GetAnnotationContent reads a file annotation's bytes: log entries
	// refer to files, they do not carry them.
	GetAnnotationContent(ctx context.Context, id string, n int) (*client.AnnotationContent, error)
}

// JobID is the id of the cla job a run is: the workflow name and the run
// id, made to fit the job id pattern.
func JobID(workflow, runID string) string {
	id := slug(workflow)
	if r := slug(runID); r != "" {
		id += "-" + r
	}
	if len(id) > 64 {
		id = strings.TrimRight(id[:64], "-._")
	}
	if id == "" || !jobs.ValidID(id) {
		id = "run-" + slug(runID)
	}
	return id
}

// ensureJob creates the run's job, or finds it when an earlier invocation
// (or a crash after creating it) did.
func ensureJob(ctx context.Context, srv Server, id, name, runID string) (*jobs.Job, error) {
	in := jobs.NewJob{ID: id, Name: name, Context: map[string]any{"workflow": name, "runId": runID}}
	job, err := srv.CreateJob(ctx, in)
	if err == nil {
		return job, nil
	}
	if existing, getErr := srv.GetJob(ctx, id); getErr == nil {
		if _, err := checkOwner(ctx, srv, existing); err != nil {
			return nil, err
		}
		return existing, nil
	}
	return nil, fmt.Errorf("create job %s: %w", id, err)
}

// ServerStore keeps the state on the cla server, as file annotations on the
// run's job: a resume job on another machine needs no artifacts. The last
// annotation named cla-run-state.json written by the run's own identity
// wins; the server lets no other identity write that name, and the job
// must belong to the runner's identity. Gate outcomes are never taken from
// the state: the runner reads them from the job (verifyGates).
type ServerStore struct {
	Server Server
	JobID  string
}

// Load implements StateStore; a job that does not exist yet means no state.
func (s *ServerStore) Load(ctx context.Context) (*State, error) {
	job, err := s.Server.GetJob(ctx, s.JobID)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("load state from job %s: %w", s.JobID, err)
	}
	owner, err := checkOwner(ctx, s.Server, job)
	if err != nil {
		return nil, err
	}
	last := 0
	var after uint64
	for {
		entries, err := s.Server.Log(ctx, s.JobID, after)
		if err != nil {
			return nil, fmt.Errorf("load state from job %s: %w", s.JobID, err)
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if n, err := strconv.Atoi(e.Fields["annotation"]); err == nil && e.Fields["name"] == jobs.RunStateAnnotation &&
				e.Actor == owner && e.Fields["content"] != "" {
				last = n
			}
			after = e.Seq
		}
	}
	if last == 0 {
		return nil, nil
	}
	raw, err := s.readState(ctx, last)
	if err != nil {
		return nil, err
	}
	return decodeState(raw, "on job "+s.JobID)
}

// Save implements StateStore with one file annotation per save.
func (s *ServerStore) Save(ctx context.Context, st *State) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	a := jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: raw}
	if err := s.Server.Annotate(ctx, s.JobID, a); err != nil {
		return fmt.Errorf("save state on job %s: %w", s.JobID, err)
	}
	return nil
}

// isNotFound reports whether err says the job does not exist.
func isNotFound(err error) bool {
	return client.IsCode(err, jobs.ENOTFOUND) || jobs.ErrorCode(err) == jobs.ENOTFOUND
}

var _ Server = (*client.Client)(nil)

// maxStateBytes caps a run state read back from the server.
const maxStateBytes = 16 << 20

// readState reads the bytes of state annotation n.
func (s *ServerStore) readState(ctx context.Context, n int) ([]byte, error) {
	c, err := s.Server.GetAnnotationContent(ctx, s.JobID, n)
	if err != nil {
		return nil, fmt.Errorf("load state from job %s: %w", s.JobID, err)
	}
	defer c.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(c.Body, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load state from job %s: %w", s.JobID, err)
	}
	if len(raw) > maxStateBytes {
		return nil, fmt.Errorf("load state from job %s: the state is larger than %d bytes", s.JobID, maxStateBytes)
	}
	return raw, nil
}

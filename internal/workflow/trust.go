package workflow

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// identifier is the part of the API that says who the runner is;
// *client.Client implements it.
type identifier interface {
	WhoAmI(ctx context.Context) (jobs.Identity, error)
}

// checkOwner refuses a run's job that another identity created: its state
// and its gates would be theirs to shape. A Server that cannot say who the
// runner is (a test fake) is trusted as it is.
func checkOwner(ctx context.Context, srv Server, job *jobs.Job) (string, error) {
	ider, ok := srv.(identifier)
	if !ok {
		return job.Requester, nil
	}
	me, err := ider.WhoAmI(ctx)
	if err != nil {
		return "", fmt.Errorf("who am i: %w", err)
	}
	if job.Requester != me.Name {
		return "", &StateError{fmt.Sprintf("job %s belongs to %s, not to this run's identity %s; its state and gates are not trusted (use another run id)",
			job.ID, job.Requester, me.Name)}
	}
	return me.Name, nil
}

// verifyGates makes the server the authority for gate outcomes: a loaded
// state may say where a run stands, never how a gate ended. Every step
// whose result came from a gate goes back to waiting on that gate, so the
// runner reads the outcome from the job; a gate step whose state names no
// gate of the job (or a gate of another kind) starts over as pending.
func verifyGates(ctx context.Context, srv Server, st *State, w *Workflow) error {
	var job *jobs.Job
	if st.JobID != "" {
		j, err := srv.GetJob(ctx, st.JobID)
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("check gates on job %s: %w", st.JobID, err)
		}
		job = j
	}
	for _, s := range w.Steps {
		ss := st.Steps[s.ID]
		if ss.Status == StepPending || ss.Status == StepRunning {
			continue
		}
		var g *jobs.Gate
		if job != nil && ss.Gate != "" {
			g = job.Gate(ss.Gate)
		}
		switch {
		case g != nil && string(g.Kind) == ss.GateKind && (ss.GateKind == gateKindTrap) == (s.Type != TypeGate):
			if ss.Status != StepFailed {
				ss.Status, ss.Outcome = StepWaiting, ""
			}
		case ss.Gate != "" || s.Type == TypeGate:
			// A claimed gate the job does not have, or a gate step that
			// claims an end without one: run the step again.
			*ss = StepState{Status: StepPending, Attempts: ss.Attempts}
		}
	}
	return nil
}

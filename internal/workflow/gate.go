package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

const gateKindTrap = string(jobs.KindTrap)

// errGateBusy means the job already has another open gate.
var errGateBusy = errors.New("another gate of the job is open")

// runGate opens the gate a gate step describes and waits for it.
func (r *runner) runGate(ctx context.Context, s *Step, cfg map[string]any) stepOut {
	gc, err := decodeGateConfig(cfg)
	if err != nil {
		return stepOut{Err: err}
	}
	if err := gc.Validate(); err != nil {
		return stepOut{Err: fmt.Errorf("gate config: %s", jobs.ErrorMessage(err))}
	}
	r.gateMu.Lock()
	defer r.gateMu.Unlock()
	g, err := r.openGate(ctx, s, gc)
	if errors.Is(err, errGateBusy) {
		return stepOut{Blocked: true}
	}
	if err != nil {
		return stepOut{Err: err}
	}
	return r.gateOutcome(ctx, g.ID)
}

// awaitGate resumes waiting for a gate step's gate.
func (r *runner) awaitGate(ctx context.Context, s *Step, gateID string) stepOut {
	r.gateMu.Lock()
	defer r.gateMu.Unlock()
	r.rep.StepStarted(s.ID)
	return r.gateOutcome(ctx, gateID)
}

// gateOutcome waits for a gate and turns its outcome into a step result:
// the outcome is the step's output; a failed action, a rejection, a time
// out or a cancel fail the step unless the gate has continueOnFailure.
func (r *runner) gateOutcome(ctx context.Context, gateID string) stepOut {
	g, err := r.waitGate(ctx, gateID)
	if err != nil {
		return stepOut{Err: err}
	}
	if g.State == jobs.GateOpen {
		return stepOut{Gate: g.ID}
	}
	out := stepOut{Output: string(*g.Outcome)}
	switch *g.Outcome {
	case jobs.OutcomeSuccessful, jobs.OutcomeApproved, jobs.OutcomeResumed:
		return out
	}
	if g.ContinueOnFailure {
		return out
	}
	out.ExitCode = 1
	out.Err = fmt.Errorf("gate %s (%s) ended %s%s", g.ID, g.Name, *g.Outcome, resolvedBy(g))
	return out
}

func resolvedBy(g *jobs.Gate) string {
	var b strings.Builder
	if g.ResolvedBy != nil && *g.ResolvedBy != "" {
		fmt.Fprintf(&b, " by %s", *g.ResolvedBy)
	}
	if g.ResolvedVia != nil && *g.ResolvedVia != "" {
		fmt.Fprintf(&b, " via %s", *g.ResolvedVia)
	}
	if g.Message != nil && *g.Message != "" {
		fmt.Fprintf(&b, ": %s", *g.Message)
	}
	return b.String()
}

// openGate opens a gate on the run's job and records it in the state
// before waiting. If an earlier invocation crashed after opening the same
// gate (same kind and name), that gate is adopted instead.
func (r *runner) openGate(ctx context.Context, s *Step, cfg jobs.GateConfig) (*jobs.Gate, error) {
	srv := r.opts.Server
	g, err := srv.OpenGate(ctx, r.st.JobID, cfg)
	if err != nil {
		job, getErr := srv.GetJob(ctx, r.st.JobID)
		open := (*jobs.Gate)(nil)
		if getErr == nil {
			open = job.OpenGate()
		}
		switch {
		case open == nil:
			return nil, fmt.Errorf("open gate %q: %w", cfg.Name, err)
		case open.Kind != cfg.Kind || open.Name != cfg.Name:
			return nil, errGateBusy
		}
		g = open
	}
	err = r.update(ctx, s.ID, func(ss *StepState) {
		ss.Status, ss.Gate, ss.GateKind = StepWaiting, g.ID, string(g.Kind)
	})
	if err != nil {
		return nil, err
	}
	r.rep.Info(fmt.Sprintf("step %s opened %s gate %s (%s) on job %s", s.ID, g.Kind, g.ID, g.Name, r.st.JobID))
	return g, nil
}

// waitGate long-polls the job until the gate closes, or returns it open
// at once with NoWait. A few transient errors in a row are retried.
func (r *runner) waitGate(ctx context.Context, gateID string) (*jobs.Gate, error) {
	var since uint64
	failures := 0
	for {
		job, err := r.opts.Server.WaitJob(ctx, r.st.JobID, since, r.opts.WaitPoll)
		if err != nil {
			if failures++; failures > 5 || ctx.Err() != nil {
				return nil, fmt.Errorf("wait for gate %s: %w", gateID, err)
			}
			r.log.Warn("wait for gate", "gate", gateID, "err", err)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(failures) * time.Second):
			}
			continue
		}
		failures = 0
		g := job.Gate(gateID)
		if g == nil {
			return nil, fmt.Errorf("job %s has no gate %s", r.st.JobID, gateID)
		}
		if g.State != jobs.GateOpen || r.opts.NoWait {
			return g, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		since = job.Version
	}
}

// serverLog writes one log annotation on the run's job, when there is one.
func (r *runner) serverLog(ctx context.Context, text string) {
	if r.opts.Server == nil || r.st.JobID == "" {
		return
	}
	a := jobs.NewAnnotation{Kind: jobs.AnnotationLog, Text: text, Data: map[string]any{"workflow": r.w.Name}}
	if err := r.opts.Server.Annotate(context.WithoutCancel(ctx), r.st.JobID, a); err != nil {
		r.log.Warn("annotate job", "job", r.st.JobID, "err", err)
	}
}

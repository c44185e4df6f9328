package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// openTrap opens a trap gate for a step that failed for good and waits for
// the decision: retry, skip or abort. end is set when the step's turn ends
// here (the decision is pending with NoWait, or the gate could not open).
func (r *runner) openTrap(ctx context.Context, s *Step, failed stepOut) (decision string, end *stepEnd) {
	cfg := jobs.GateConfig{Kind: jobs.KindTrap, Name: fmt.Sprintf("%s: step %s failed", r.w.Name, s.ID),
		Description: trapDescription(r.w.Name, s.ID, failed),
		// A trap that times out must leave the job running: the runner
		// applies the step's default decision.
		ContinueOnFailure: true}
	if s.Trap.Timeout > 0 {
		cfg.Timeout = s.Trap.Timeout.String()
	}
	if err := r.update(ctx, s.ID, func(ss *StepState) {
		ss.Output, ss.ExitCode, ss.Error = failed.Output, failed.ExitCode, failed.Err.Error()
	}); err != nil {
		e := r.finishStep(ctx, s, StepFailed, stepOut{Err: err})
		return "", &e
	}
	r.gateMu.Lock()
	defer r.gateMu.Unlock()
	g, err := r.openGate(ctx, s, cfg)
	if err != nil {
		failed.Err = fmt.Errorf("%w (and the trap could not open: %v)", failed.Err, err)
		e := r.finishStep(ctx, s, StepFailed, failed)
		return "", &e
	}
	return r.trapDecision(ctx, s, g.ID)
}

// awaitTrap resumes waiting for a trap opened by an earlier invocation.
func (r *runner) awaitTrap(ctx context.Context, s *Step, gateID string) (string, *stepEnd) {
	r.gateMu.Lock()
	defer r.gateMu.Unlock()
	return r.trapDecision(ctx, s, gateID)
}

// trapDecision waits for a trap gate and returns retry, skip or abort; a
// trap that timed out takes the step's default, a cancelled one aborts.
func (r *runner) trapDecision(ctx context.Context, s *Step, gateID string) (string, *stepEnd) {
	g, err := r.waitGate(ctx, gateID)
	if err != nil {
		e := r.endOf(ctx, s, stepOut{Err: err})
		return "", &e
	}
	if g.State == jobs.GateOpen {
		e := r.endOf(ctx, s, stepOut{Gate: g.ID})
		return "", &e
	}
	decision := string(*g.Outcome)
	switch *g.Outcome {
	case jobs.OutcomeTimedOut:
		decision = s.Trap.Default
	case jobs.OutcomeRetry, jobs.OutcomeSkip, jobs.OutcomeAbort:
	default:
		decision = string(jobs.OutcomeAbort)
	}
	_ = r.update(ctx, s.ID, func(ss *StepState) { ss.Outcome = decision })
	r.rep.Info(fmt.Sprintf("trap of step %s: %s (gate %s ended %s%s)", s.ID, decision, g.ID, *g.Outcome, resolvedBy(g)))
	return decision, nil
}

// trapDescription tells the deciders what failed; {[ is defused because
// descriptions are templates.
func trapDescription(workflow, id string, failed stepOut) string {
	text := fmt.Sprintf("Step %s of workflow %s failed: %v", id, workflow, failed.Err)
	if failed.Output != "" {
		text += "\n\n" + tail(failed.Output, 1500)
	}
	text += "\n\nRetry runs the step again, Skip goes on without it, Abort fails the run."
	return strings.ReplaceAll(text, "{[", "{ [")
}

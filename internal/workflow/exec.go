package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// stepOut is what one attempt of a step produced.
type stepOut struct {
	Output   string
	ExitCode int
	Err      error
	// Gate is set when the step stopped at a gate that is still open.
	Gate string
	// Blocked means another gate of the job is open, so this step could
	// not open its own; it goes back to pending and the run pauses.
	Blocked bool
}

// exec runs one step to its end in this invocation: its condition, its
// attempts and retries, and its trap decisions.
func (r *runner) exec(ctx context.Context, s *Step) stepEnd {
	ss := r.stepState(s.ID)
	decision := ""
	if ss.Status == StepWaiting {
		if ss.GateKind != gateKindTrap {
			return r.endOf(ctx, s, r.awaitGate(ctx, s, ss.Gate))
		}
		var end *stepEnd
		if decision, end = r.awaitTrap(ctx, s, ss.Gate); end != nil {
			return *end
		}
	} else if s.cond != nil {
		run, err := evalCondition(s.cond, r.vars())
		if err != nil {
			return r.finishStep(ctx, s, StepFailed, stepOut{Err: fmt.Errorf("if: %w", err)})
		}
		if !run {
			r.rep.Info(fmt.Sprintf("step %s skipped: its condition is false", s.ID))
			return r.finishStep(ctx, s, StepSkipped, stepOut{})
		}
	}
	for {
		switch decision {
		case "skip":
			return r.finishStep(ctx, s, StepSkipped, stepOut{Output: r.stepState(s.ID).Output})
		case "abort":
			return r.finishStep(ctx, s, StepFailed, stepOut{Err: errors.New("aborted by the trap decision")})
		}
		out := r.attempts(ctx, s)
		if out.Err == nil || out.Gate != "" || out.Blocked || ctx.Err() != nil || s.Trap == nil {
			return r.endOf(ctx, s, out)
		}
		if r.opts.Server == nil {
			out.Err = fmt.Errorf("%w (trap: true needs --server to ask for retry, skip or abort)", out.Err)
			return r.endOf(ctx, s, out)
		}
		var end *stepEnd
		if decision, end = r.openTrap(ctx, s, out); end != nil {
			return *end
		}
	}
}

// endOf turns an attempt's result into the step's end.
func (r *runner) endOf(ctx context.Context, s *Step, out stepOut) stepEnd {
	switch {
	case ctx.Err() != nil:
		return stepEnd{id: s.ID, status: endInterrupted}
	case out.Blocked:
		_ = r.update(ctx, s.ID, func(ss *StepState) { ss.Status = StepPending })
		r.rep.Info(fmt.Sprintf("step %s waits: another gate of the job is open", s.ID))
		return stepEnd{id: s.ID, status: StepPending}
	case out.Gate != "":
		r.rep.Info(fmt.Sprintf("step %s waits for gate %s on job %s", s.ID, out.Gate, r.st.JobID))
		return stepEnd{id: s.ID, status: StepWaiting}
	case out.Err != nil:
		return r.finishStep(ctx, s, StepFailed, out)
	}
	return r.finishStep(ctx, s, StepSucceeded, out)
}

// attempts runs the step once plus up to Retries more times.
func (r *runner) attempts(ctx context.Context, s *Step) stepOut {
	for i := 0; ; i++ {
		out := r.attemptOnce(ctx, s)
		if out.Err == nil || out.Gate != "" || out.Blocked || i >= s.Retries || ctx.Err() != nil {
			return out
		}
		r.rep.Info(fmt.Sprintf("step %s failed (%v); retry %d of %d", s.ID, out.Err, i+1, s.Retries))
	}
}

// attemptOnce records the step as running (before it starts: at least
// once), expands its config and runs it under its timeout.
func (r *runner) attemptOnce(ctx context.Context, s *Step) stepOut {
	now := time.Now().UTC()
	err := r.update(ctx, s.ID, func(ss *StepState) {
		ss.Status, ss.Attempts, ss.StartedAt, ss.EndedAt = StepRunning, ss.Attempts+1, &now, nil
		ss.Error, ss.Gate, ss.GateKind, ss.Outcome = "", "", "", ""
	})
	if err != nil {
		return stepOut{Err: err}
	}
	r.rep.StepStarted(s.ID)
	r.serverLog(ctx, fmt.Sprintf("step %s started", s.ID))
	cfg, err := expandStepConfig(s, r.vars())
	if err != nil {
		return stepOut{Err: err}
	}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if s.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, s.Timeout)
	}
	defer cancel()
	out := r.runType(runCtx, s, cfg)
	if out.Err != nil && ctx.Err() == nil && runCtx.Err() == context.DeadlineExceeded {
		out.Err = fmt.Errorf("timed out after %s: %w", s.Timeout, out.Err)
	}
	return out
}

func (r *runner) runType(ctx context.Context, s *Step, cfg map[string]any) stepOut {
	switch s.Type {
	case TypeShell:
		return r.runShell(ctx, s, cfg)
	case TypeWebhook:
		return r.runWebhook(ctx, s, cfg)
	case TypeSlackNotify:
		return r.runSlackNotify(ctx, s, cfg)
	case TypeGate:
		return r.runGate(ctx, s, cfg)
	}
	return stepOut{Err: fmt.Errorf("unknown step type %q", s.Type)}
}

// finishStep records a step's final status in this invocation.
func (r *runner) finishStep(ctx context.Context, s *Step, status string, out stepOut) stepEnd {
	now := time.Now().UTC()
	errText := ""
	if out.Err != nil {
		errText = out.Err.Error()
	}
	var ss StepState
	err := r.update(ctx, s.ID, func(st *StepState) {
		st.Status, st.Output, st.ExitCode, st.Error, st.EndedAt = status, out.Output, out.ExitCode, errText, &now
		if st.StartedAt == nil {
			st.StartedAt = &now
		}
		ss = *st
	})
	if err != nil {
		r.rep.Info(fmt.Sprintf("step %s: %v", s.ID, err))
		status = StepFailed
	}
	r.rep.StepEnded(s.ID, ss)
	r.serverLog(ctx, endText(s.ID, ss))
	return stepEnd{id: s.ID, status: status}
}

func endText(id string, ss StepState) string {
	text := fmt.Sprintf("step %s %s in %s", id, ss.Status, ss.Duration().Round(time.Millisecond))
	if ss.Error != "" {
		text += ": " + ss.Error
	}
	if ss.Output != "" {
		text += "\n" + tail(ss.Output, 4000)
	}
	return text
}

func (r *runner) stepState(id string) StepState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.st.Steps[id]
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

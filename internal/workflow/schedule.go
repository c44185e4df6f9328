package workflow

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// stepEnd is how one step's turn in this invocation ended: a step status,
// or "interrupted" when the run's context ended under it.
type stepEnd struct {
	id     string
	status string
}

const endInterrupted = "interrupted"

// Why the scheduler stops launching steps.
const (
	stopNone   = ""
	stopFailed = "failed"
	stopPaused = "paused"
)

// loop launches every ready step (up to Parallel at once) until the
// workflow is done, a step fails, or the run must pause. Steps already
// running are always waited for, so the saved state is never ahead of them.
func (r *runner) loop(ctx context.Context) Summary {
	done := make(chan stepEnd)
	running, stop := 0, stopNone
	for {
		if stop == stopNone && ctx.Err() == nil {
			for _, s := range r.ready() {
				if running >= r.opts.Parallel {
					break
				}
				r.launched[s.ID] = true
				running++
				go func() { done <- r.exec(ctx, s) }()
			}
		}
		if running == 0 {
			break
		}
		end := <-done
		running--
		stop = r.after(end, stop)
	}
	return r.finish(ctx, stop)
}

// ready lists steps that may start now, in file order.
func (r *runner) ready() []*Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Step
	for _, s := range r.w.Steps {
		ss := r.st.Steps[s.ID]
		if r.launched[s.ID] || (ss.Status != StepPending && ss.Status != StepWaiting) {
			continue
		}
		if r.depsDone(s) {
			out = append(out, s)
		}
	}
	return out
}

func (r *runner) depsDone(s *Step) bool {
	for _, d := range s.DependsOn {
		switch r.st.Steps[d].Status {
		case StepSucceeded, StepSkipped:
		default:
			return false
		}
	}
	return true
}

// after decides, from one step's end, whether to keep launching steps.
func (r *runner) after(end stepEnd, stop string) string {
	switch end.status {
	case StepFailed:
		return stopFailed
	case StepWaiting, StepPending:
		if stop == stopNone {
			return stopPaused
		}
	case StepSucceeded:
		if r.w.Step(end.id).Pause && stop == stopNone {
			r.pausedAfter = end.id
			return stopPaused
		}
	}
	return stop
}

// finish records how the run ended and tells the server.
func (r *runner) finish(ctx context.Context, stop string) Summary {
	code, msg := ExitDone, ""
	r.mu.Lock()
	switch {
	case stop == stopFailed:
		r.st.Status, code, msg = RunFailed, ExitFailed, r.failureText()
	case ctx.Err() != nil:
		r.st.Status, code, msg = RunRunning, ExitFailed, "interrupted; run cla run again to resume"
	case r.allDone():
		r.st.Status = RunDone
	default:
		r.st.Status, code, msg = RunPaused, ExitPaused, r.pauseText()
		if r.opts.PausedExitCode != nil {
			code = *r.opts.PausedExitCode
		}
	}
	paused := r.st.Status == RunPaused
	err := r.saveLocked(ctx)
	r.mu.Unlock()
	if err != nil {
		code, msg, paused = ExitFailed, err.Error(), false
	}
	r.tellServer(ctx, code, paused, msg)
	return r.summary(code, msg)
}

// pauseText says where the run stopped and how to go on: "paused after
// request_approval; run the resume job".
func (r *runner) pauseText() string {
	if r.pausedAfter != "" {
		return fmt.Sprintf("paused after %s; %s", r.pausedAfter, r.opts.PauseHint)
	}
	for _, s := range r.w.Steps {
		if ss := r.st.Steps[s.ID]; ss.Status == StepWaiting {
			return fmt.Sprintf("paused at %s (its gate is open); %s", s.ID, r.opts.PauseHint)
		}
	}
	return "paused; " + r.opts.PauseHint
}

func (r *runner) allDone() bool {
	for _, ss := range r.st.Steps {
		if ss.Status != StepSucceeded && ss.Status != StepSkipped {
			return false
		}
	}
	return true
}

func (r *runner) failureText() string {
	for _, s := range r.w.Steps {
		if ss := r.st.Steps[s.ID]; ss.Status == StepFailed {
			return fmt.Sprintf("step %s failed: %s", s.ID, ss.Error)
		}
	}
	return "failed"
}

// tellServer ends the run's job (or notes the pause) on the server.
func (r *runner) tellServer(ctx context.Context, code int, paused bool, msg string) {
	srv := r.opts.Server
	if srv == nil || r.st.JobID == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	switch {
	case paused:
		err = srv.Annotate(ctx, r.st.JobID, jobs.NewAnnotation{Kind: jobs.AnnotationLog, Text: "workflow " + r.w.Name + " " + msg})
	case code == ExitDone:
		_, err = srv.Progress(ctx, r.st.JobID, jobs.StatusSuccessful, "workflow "+r.w.Name+" done")
	case r.st.Status == RunFailed:
		_, err = srv.Progress(ctx, r.st.JobID, jobs.StatusFailure, msg)
	}
	if err != nil {
		r.log.Debug("tell server how the run ended", "job", r.st.JobID, "err", err)
	}
}

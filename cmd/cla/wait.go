package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

func runWait(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var maxWait time.Duration
	fs := newFlags(e, "wait", help{usage: "cla wait <job> [--max-wait DURATION] [flags]",
		about: "Waits, without polling, for the job's manual step:\n" +
			"  - if the job has an open gate: until that gate is resolved. Exit 0 when it passed (completed,\n" +
			"    approved, resumed, retry or skip), 1 when it failed, was rejected, aborted, timed out or\n" +
			"    was cancelled;\n" +
			"  - otherwise: until the job ends. Exit 0 when it is successful, 1 when it is failure,\n" +
			"    rejected or cancelled.\n" +
			"It keeps waiting across server restarts (retrying with backoff, noting it on stderr).\n" +
			"With --max-wait it gives up after that long with exit 1. Exit 2: unknown job or bad usage.",
		examples: "  cla wait qa-1234 && ./continue-rollout.sh\n  cla wait qa-1234 --max-wait 4h --output json"})
	cf.register(fs, e)
	fs.DurationVar(&maxWait, "max-wait", 0, "give up after this long (exit 1); 0 waits forever")
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("wait: %v", err)
		return exitError
	}
	job, err := cl.GetJob(ctx, pos[0])
	if err != nil {
		return cf.fail(e, "wait for "+pos[0], err)
	}
	gateID := ""
	if g := job.OpenGate(); g != nil {
		gateID = g.ID
	}
	return awaitGate(ctx, e, &cf, cl, job.ID, gateID, maxWait)
}

// awaitGate long-polls until gate gateID of the job is closed (or, with no
// gate, until the job is terminal) and returns the exit code of its fate.
func awaitGate(ctx context.Context, e *env, cf *clientFlags, cl *client.Client, jobID, gateID string, maxWait time.Duration) int {
	if maxWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxWait)
		defer cancel()
	}
	done := func(j *jobs.Job) bool {
		if g := j.Gate(gateID); g != nil && g.State == jobs.GateClosed {
			return true
		}
		return j.Status.Terminal()
	}
	var lastNote time.Time
	onRetry := func(err error, delay time.Duration) {
		if time.Since(lastNote) >= 10*time.Second {
			e.errorf("server unreachable (%v); still waiting for %s, retrying every few seconds", shortErr(err), jobID)
			lastNote = time.Now()
		}
	}
	onBack := func() {
		e.errorf("server is back; still waiting for %s", jobID)
		lastNote = time.Time{}
	}
	job, err := cl.Await(ctx, jobID, done, onRetry, onBack)
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) && maxWait > 0:
		e.errorf("gave up waiting for %s after %s", jobID, maxWait)
		return exitFailed
	case ctx.Err() != nil:
		e.errorf("interrupted while waiting for %s", jobID)
		return exitError
	default:
		return cf.fail(e, "wait for "+jobID, err)
	}
	passed, text := verdict(job, gateID)
	cf.show(e, job, func(w io.Writer) { fmt.Fprintln(w, text) })
	if passed {
		return exitOK
	}
	return exitFailed
}

// verdict says whether the awaited gate (or job) passed, in words.
func verdict(j *jobs.Job, gateID string) (bool, string) {
	if g := j.Gate(gateID); g != nil && g.State == jobs.GateClosed && g.Outcome != nil {
		switch *g.Outcome {
		case jobs.OutcomeSuccessful, jobs.OutcomeApproved, jobs.OutcomeResumed, jobs.OutcomeRetry, jobs.OutcomeSkip:
			return true, fmt.Sprintf("%s: %s; job is %s", j.ID, gateLine(g), j.Status)
		}
		return false, fmt.Sprintf("%s: %s; job is %s", j.ID, gateLine(g), j.Status)
	}
	text := fmt.Sprintf("%s is %s", j.ID, j.Status)
	if j.Message != "" {
		text += ": " + j.Message
	}
	return j.Status == jobs.StatusSuccessful, text
}

// shortErr keeps a connection error readable on one line.
func shortErr(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Message
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[len(s)-120:]
	}
	return s
}

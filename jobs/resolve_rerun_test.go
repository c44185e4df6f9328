package jobs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// rerunStore models bbolt's Batch contract: a change function may run more
// than once, and a rolled-back run may have seen another state (the batch
// is retried in another order). Before the real run it runs fn once on
// stale(job) and throws the result away.
type rerunStore struct {
	jobs.Store
	stale func(*jobs.Job) *jobs.Job
}

func (r *rerunStore) UpdateJob(ctx context.Context, id string, fn func(*jobs.Job) (jobs.Effects, error)) (*jobs.Job, []jobs.LogEntry, error) {
	if r.stale != nil {
		j, err := r.Store.GetJob(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		_, _ = fn(r.stale(j))
	}
	return r.Store.UpdateJob(ctx, id, fn)
}

func TestService_ResolveRerunLeavesNoLateAttempt(t *testing.T) {
	ctx := context.Background()
	inner := newService(t)
	rs := &rerunStore{Store: inner.Store()}
	svc := jobs.NewService(rs, jobs.NewBroker(), jobs.Options{})
	createWithGate(t, svc, "qa-r", jobs.GateConfig{Kind: jobs.KindAction, Name: "First"})
	_, _, err := svc.Resolve(ctx, alice, jobs.ViaAPI, "qa-r", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-r", jobs.GateConfig{Kind: jobs.KindAction, Name: "Second"})
	require.NoError(t, err)

	// The discarded run sees the job before g2 opened: g1 closed, no gate open.
	rs.stale = func(j *jobs.Job) *jobs.Job {
		c := j.Clone()
		c.Gates = c.Gates[:1]
		c.Status = jobs.StatusInProgress
		return c
	}
	job, gate, err := svc.Resolve(ctx, bob, jobs.ViaAPI, "qa-r", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	require.Equal(t, "g2", gate.ID)
	require.Equal(t, jobs.StatusInProgress, job.Status)
	entries, err := svc.Log(ctx, "qa-r", 0, 100)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.Contains(e.Text, "also tried"), "bob resolved g2; no late attempt may be logged: %q", e.Text)
	}
}

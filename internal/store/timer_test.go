package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestDB_DueJobsFarFuture: a wake time past what UnixNano can hold (after
// 2262) must sort last and never look due, else the timer loop fires the
// job forever (and spins once a batch of them fills its read).
func TestDB_DueJobsFarFuture(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	for _, c := range []struct {
		id       string
		deadline time.Time
	}{
		{"qa-far", t0.Add(290 * 365 * 24 * time.Hour)},
		{"qa-near", t0.Add(time.Hour)},
	} {
		job := newJob(c.id, t0, jobs.StatusActionRequired)
		d := c.deadline
		job.Gates = []*jobs.Gate{{ID: "g1", GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "x"}, State: jobs.GateOpen, OpenedAt: t0, Deadline: &d}}
		require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	}
	t.Run("nothing due now", func(t *testing.T) {
		ids, next, err := db.DueJobs(ctx, t0, 10)
		require.NoError(t, err)
		require.Empty(t, ids)
		require.Equal(t, t0.Add(time.Hour), next.UTC())
	})
	t.Run("near one due, far one not", func(t *testing.T) {
		ids, next, err := db.DueJobs(ctx, t0.Add(2*time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"qa-near"}, ids)
		require.True(t, next.After(t0.Add(100*365*24*time.Hour)), "far job wakes far away, got %v", next)
	})
	t.Run("moving the far deadline removes its entry", func(t *testing.T) {
		_, _, err := db.UpdateJob(ctx, "qa-far", func(j *jobs.Job) (jobs.Effects, error) {
			d := t0.Add(3 * time.Hour)
			j.Gates[0].Deadline = &d
			j.Version++
			return jobs.Effects{}, nil
		})
		require.NoError(t, err)
		ids, next, err := db.DueJobs(ctx, t0.Add(4*time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"qa-near", "qa-far"}, ids)
		require.True(t, next.IsZero(), "no stale entry left, got %v", next)
	})
}

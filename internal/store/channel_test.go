package store_test

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestDB_ChannelServesOneJob: the store refuses, inside the transaction, a
// channel already bound to another job, so two concurrent binds (both
// past jobs.Service's read-only pre-check) cannot both win.
func TestDB_ChannelServesOneJob(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	bind := func(id string) error {
		_, _, err := db.UpdateJob(ctx, id, func(j *jobs.Job) (jobs.Effects, error) {
			j.Channels = append(j.Channels, jobs.Channel{ID: "C1", Name: "job-x"})
			j.Version++
			return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "bound"}}}, nil
		})
		return err
	}
	for _, id := range []string{"qa-a", "qa-b"} {
		require.NoError(t, db.CreateJob(ctx, newJob(id, t0, jobs.StatusInProgress), jobs.Effects{}))
	}
	require.NoError(t, bind("qa-a"))
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(bind("qa-b")))
	owner, err := db.JobByChannel(ctx, "C1")
	require.NoError(t, err)
	require.Equal(t, "qa-a", owner)
	b, err := db.GetJob(ctx, "qa-b")
	require.NoError(t, err)
	require.Empty(t, b.Channels, "the refused bind wrote nothing")
	require.Equal(t, uint64(1), b.Version)
	log, err := db.Log(ctx, "qa-b", 0, 10)
	require.NoError(t, err)
	require.Empty(t, log)
}

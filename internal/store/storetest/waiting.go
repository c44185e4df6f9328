package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// gated returns a job in action_required with one open gate.
func gated(id string, created time.Time, assignees ...string) *jobs.Job {
	j := NewJob(id, created, jobs.StatusActionRequired)
	j.Gates = []*jobs.Gate{{ID: "g1", GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: assignees},
		State: jobs.GateOpen, OpenedAt: created}}
	return j
}

func waitingIDs(t *testing.T, db jobs.Store, limit int, keys ...string) []string {
	t.Helper()
	got, err := db.WaitingOn(context.Background(), keys, limit)
	require.NoError(t, err)
	ids := []string{}
	for _, j := range got {
		require.NotNil(t, j.OpenGate(), "job %s has an open gate", j.ID)
		ids = append(ids, j.ID)
	}
	return ids
}

// testWaitingOn checks the assignee index: keys as jobs.AssigneeKey forms
// them, newest first without repeats, moved in the transaction that
// changes the gate, escalation tiers counted once reached.
func testWaitingOn(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, gated("w-1", T0, "ops", "@Dana@Example.COM"), jobs.Effects{}))
	require.NoError(t, db.CreateJob(ctx, gated("w-2", T0.Add(time.Second), "ops", "U0ERIN"), jobs.Effects{}))
	require.NoError(t, db.CreateJob(ctx, NewJob("plain", T0.Add(2*time.Second), jobs.StatusPending), jobs.Effects{}))
	esc := gated("w-3", T0.Add(3*time.Second), "lead")
	esc.Gates[0].Escalation = []jobs.Escalation{{After: "1h", Assignees: []string{"dana@example.com"}}}
	require.NoError(t, db.CreateJob(ctx, esc, jobs.Effects{}))

	require.Equal(t, []string{"w-2", "w-1"}, waitingIDs(t, db, 0, "ops"))
	require.Equal(t, []string{"w-2", "w-1"}, waitingIDs(t, db, 0, "ops", "dana@example.com", "U0ERIN"), "each job once")
	require.Equal(t, []string{"w-2"}, waitingIDs(t, db, 1, "ops"), "limit")
	require.Equal(t, []string{"w-1"}, waitingIDs(t, db, 0, "dana@example.com"), "an escalation tier not reached waits on nobody")
	require.Equal(t, []string{}, waitingIDs(t, db, 0, "nobody"))
	require.Equal(t, []string{}, waitingIDs(t, db, 0))

	_, _, err := db.UpdateJob(ctx, "w-3", func(j *jobs.Job) (jobs.Effects, error) {
		j.Gates[0].EscalationsDone = 1
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"w-3", "w-1"}, waitingIDs(t, db, 0, "dana@example.com"), "the tier reached adds its assignees")

	_, _, err = db.UpdateJob(ctx, "w-1", func(j *jobs.Job) (jobs.Effects, error) {
		j.Gates[0].Assignees = []string{"carol"}
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"w-2"}, waitingIDs(t, db, 0, "ops"), "reassigned away")
	require.Equal(t, []string{"w-1"}, waitingIDs(t, db, 0, "carol"))

	_, _, err = db.UpdateJob(ctx, "w-2", func(j *jobs.Job) (jobs.Effects, error) {
		j.Gates[0].State, j.Status = jobs.GateClosed, jobs.StatusSuccessful
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{}, waitingIDs(t, db, 0, "ops", "U0ERIN"), "a closed gate waits on nobody")

	// A refused change moves nothing.
	_, _, err = db.UpdateJob(ctx, "w-1", func(j *jobs.Job) (jobs.Effects, error) {
		j.Gates[0].Assignees = []string{"mallory"}
		return jobs.Effects{}, jobs.Errorf(jobs.ECONFLICT, "refused")
	})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	require.Equal(t, []string{"w-1"}, waitingIDs(t, db, 0, "carol"))
	require.Equal(t, []string{}, waitingIDs(t, db, 0, "mallory"))
}

package pgstore_test

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestMigration4_Backfills checks that schema 4 derives the outbox lanes,
// their heads and the assignee index from data written under schema 3.
func TestMigration4_Backfills(t *testing.T) {
	ctx := context.Background()
	u := pgtest.FreshURL(t)
	db := open(t, u, pgstore.Options{})
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	_, err := svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "w-1", Name: "x",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"ops", "@Dana@Example.com"},
			Escalation: []jobs.Escalation{{After: "1h", Assignees: []string{"lead"}}}}})
	require.NoError(t, err)
	_, err = svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "done", Name: "y",
		Gate: &jobs.GateConfig{Kind: jobs.KindPause, Name: "y", Assignees: []string{"ops"}}})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, jobs.Identity{Name: "ci", Groups: []string{"ops"}}, jobs.ViaAPI, "done", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	storetest.Enqueue(t, db, []jobs.Notification{storetest.Note("1", "w-1", "slack", "C1", 0),
		storetest.Note("2", "w-1", "slack", "", 0), storetest.Note("3", "w-1", "email", "a@x", 0)})
	require.NoError(t, db.Close())

	// Back to schema 3: what a database written by the previous release holds.
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DROP TABLE cla_waiting, cla_outbox_heads;
		DROP INDEX cla_outbox_lane, cla_outbox_scope;
		ALTER TABLE cla_outbox DROP COLUMN ch_type, DROP COLUMN lane, DROP COLUMN targeted;
		DELETE FROM cla_schema WHERE version >= 4`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	db = open(t, u, pgstore.Options{})
	got, next, _ := storetest.Due(t, db, storetest.T0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"1"}, "email\x00a@x": {"3"}}, got, "the targetless one waits behind C1")
	require.True(t, next.IsZero())
	for _, keys := range [][]string{{"ops"}, {"dana@example.com"}} {
		jobs, err := db.WaitingOn(ctx, keys, 0)
		require.NoError(t, err)
		require.Len(t, jobs, 1, "keys %v", keys)
		require.Equal(t, "w-1", jobs[0].ID)
	}
	none, err := db.WaitingOn(ctx, []string{"lead"}, 0)
	require.NoError(t, err)
	require.Empty(t, none, "an escalation tier not reached")
}

package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var t0 = storetest.T0

// TestOpen_RebuildsOutboxIndex checks that a file whose outbox indexes are
// missing (written before they existed) gets them at Open.
func TestOpen_RebuildsOutboxIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	storetest.Enqueue(t, db, []jobs.Notification{storetest.Note("1", "j", "slack", "C1", 0), storetest.Note("2", "j", "slack", "", 0), storetest.Note("3", "k", "email", "a@x", time.Minute)})
	require.NoError(t, db.Close())
	require.NoError(t, store.DropIndexesForTest(path))

	db, err = store.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	got, next, pending := storetest.Due(t, db, t0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"1"}}, got)
	require.Equal(t, t0.Add(time.Minute), next)
	require.Equal(t, 3, pending)
	require.NoError(t, db.Check())
}

// TestOpen_RebuildsWaitingIndex checks the same for the assignee index,
// and that the index holds open gates only.
func TestOpen_RebuildsWaitingIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	for _, id := range []string{"w-1", "w-2"} {
		_, err := svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: id, Name: id,
			Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"ops", "Dana@Example.com"}}})
		require.NoError(t, err)
	}
	_, _, err = svc.Resolve(ctx, jobs.Identity{Name: "ci", Groups: []string{"ops"}}, jobs.ViaAPI, "w-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, store.DropIndexesForTest(path))

	db, err = store.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Check())
	for _, keys := range [][]string{{"ops"}, {"dana@example.com"}, {"ops", "dana@example.com", "nobody"}} {
		got, err := db.WaitingOn(ctx, keys, 0)
		require.NoError(t, err)
		require.Len(t, got, 1, "keys %v", keys)
		require.Equal(t, "w-2", got[0].ID)
	}
	got, err := db.WaitingOn(ctx, []string{"nobody"}, 0)
	require.NoError(t, err)
	require.Empty(t, got)
}

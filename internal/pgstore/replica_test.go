package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/jobs"
)

// TestDB_ListenOwnSchemaOnly: a replica is woken by changes of the other
// replicas of its own schema, never by a deployment in another schema of
// the same database (LISTEN/NOTIFY is database-wide).
func TestDB_ListenOwnSchemaOnly(t *testing.T) {
	ours := pgtest.FreshURL(t)
	listener, peer := open(t, ours, pgstore.Options{}), open(t, ours, pgstore.Options{})
	neighbour := open(t, pgtest.FreshURL(t), pgstore.Options{}) // same database, another schema

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	woken := make(chan string, 16)
	listening := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- listener.Listen(ctx, time.Hour, func(id string) { woken <- id }, func() {
			select {
			case listening <- struct{}{}: // the first resync follows LISTEN
			default:
			}
		})
	}()
	<-listening

	create := func(db *pgstore.DB, id string) {
		job := &jobs.Job{ID: id, Name: "listen", Status: jobs.StatusInProgress, CreatedAt: time.Now()}
		require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	}
	create(neighbour, "other-schema") // committed first: delivered first, if at all
	create(peer, "same-schema")
	select {
	case id := <-woken:
		require.Equal(t, "same-schema", id, "a change in another schema woke this replica")
	case <-ctx.Done():
		t.Fatal("a change by a replica of the same schema never woke it")
	}
	cancel()
	require.NoError(t, <-done)
}

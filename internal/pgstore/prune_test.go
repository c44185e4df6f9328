package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestDB_PruneKeys_Replicas: replicas pruning at the same time delete
// every old key exactly once between them, without errors.
func TestDB_PruneKeys_Replicas(t *testing.T) {
	u := pgtest.FreshURL(t)
	a, b := open(t, u, pgstore.Options{}), open(t, u, pgstore.Options{})
	ctx := context.Background()
	const n = 300
	for i := range n {
		fresh, err := a.Once(ctx, fmt.Sprintf("slack-event:Ev%04d", i))
		require.NoError(t, err)
		require.True(t, fresh)
	}
	cut := time.Now().Add(time.Second) // after every key
	var wg sync.WaitGroup
	deleted := make([]int, 3)
	for i, db := range []*pgstore.DB{a, b, a} {
		wg.Go(func() {
			// Keep sweeping until nothing is left: a replica that finds
			// the lock held does nothing this time.
			for j := 0; j < 10_000; j++ {
				deleted[i] += storetest.PruneAll(t, db, cut, 25)
				var left int
				require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM cla_once`).Scan(&left))
				if left == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, n, deleted[0]+deleted[1]+deleted[2], "every key deleted exactly once")
}

// TestMigration7_StampsExistingRows: log keys and delivered notification
// ids written before schema 7 take the migration's time, so they are kept
// one full window from the upgrade; Once rows had their time already.
func TestMigration7_StampsExistingRows(t *testing.T) {
	ctx := context.Background()
	u := pgtest.FreshURL(t)
	db := open(t, u, pgstore.Options{})
	require.NoError(t, db.CreateJob(ctx, storetest.NewJob("m7", storetest.T0, jobs.StatusPending), jobs.Effects{}))
	_, err := db.AppendLog(ctx, "m7", []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "x", Key: "line"}}, 0)
	require.NoError(t, err)
	storetest.Enqueue(t, db, []jobs.Notification{storetest.Note("n1", "m7", "webhook", "http://h", 0)})
	require.NoError(t, db.SettleNotification(ctx, "n1"))
	_, err = db.Once(ctx, "slack-event:old")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	// Back to schema 6: what a database written by the previous release holds.
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `ALTER TABLE cla_logs DROP COLUMN key_at;
		ALTER TABLE cla_outbox DROP COLUMN enqueued_at;
		DROP INDEX cla_once_first_seen;
		DELETE FROM cla_schema WHERE version >= 7`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	upgrade := time.Now().Add(-time.Millisecond) // rows stamped at upgrade are newer

	db = open(t, u, pgstore.Options{})
	require.Equal(t, 1, storetest.PruneAll(t, db, upgrade, 100), "only the Once key is older than the upgrade")
	require.Equal(t, 2, storetest.PruneAll(t, db, time.Now().Add(time.Hour), 100), "the stamped rows go a window later")
	added, err := db.AppendLog(ctx, "m7", []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "x again", Key: "line"}}, 0)
	require.NoError(t, err)
	require.Len(t, added, 1, "the pruned log key is free again")
}

// TestDB_PruneKeys_OtherSchema: a prune in progress in another schema of
// the same database (another deployment, or another test on a shared
// server) does not stop this schema's prune; one in this schema does (it
// is another replica's, and it prunes the same rows).
func TestDB_PruneKeys_OtherSchema(t *testing.T) {
	ctx := context.Background()
	mine, other := open(t, pgtest.FreshURL(t), pgstore.Options{}), open(t, pgtest.FreshURL(t), pgstore.Options{})
	u := pgtest.FreshURL(t)
	a, b := open(t, u, pgstore.Options{}), open(t, u, pgstore.Options{})
	for _, db := range []*pgstore.DB{mine, a} {
		fresh, err := db.Once(ctx, "slack-event:old")
		require.NoError(t, err)
		require.True(t, fresh)
	}
	cut := time.Now().Add(time.Second)

	held, release, err := other.HoldPruneLock(ctx)
	require.NoError(t, err)
	require.True(t, held)
	r, err := mine.PruneKeys(ctx, cut, 10)
	release()
	require.NoError(t, err)
	require.Equal(t, 1, r.Deleted, "another schema's prune does not hold this one")

	held, release, err = b.HoldPruneLock(ctx)
	require.NoError(t, err)
	require.True(t, held)
	r, err = a.PruneKeys(ctx, cut, 10)
	require.NoError(t, err)
	require.Equal(t, jobs.PruneResult{}, r, "a replica of the same schema is pruning: nothing to do this time")
	release()
	require.Equal(t, 1, storetest.PruneAll(t, a, cut, 10), "its turn once the other is done")
}

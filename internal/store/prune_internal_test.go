package store

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestDB_PruneKeys_OldFormat: keys written before keys had a time (a
// bare sequence, or a once value that is not a time) are stamped on the
// first sweep and kept a full window from then; a later sweep past the
// window deletes them. A pending notification's id is never touched.
func TestDB_PruneKeys_OldFormat(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return now }
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, &jobs.Job{ID: "j", Name: "j", Status: jobs.StatusPending, Version: 1, CreatedAt: now},
		jobs.Effects{Notify: []jobs.Notification{{ID: "pending", JobID: "j", Channel: jobs.NotifyChannel{Type: "email", To: "a@example.com"}, DueAt: now}}}))
	// Write keys the way older files hold them.
	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		for _, kv := range []struct {
			bucket []byte
			key    string
			val    []byte
		}{
			{bucketOnce, "slack-event:Ev-old", []byte{1}},
			{bucketLogKeys, "j\x00line", u64(1)},
			{bucketOutboxIDs, "settled-long-ago", u64(999)},
		} {
			if err := tx.Bucket(kv.bucket).Put([]byte(kv.key), kv.val); err != nil {
				return err
			}
		}
		// The pending notification's id, rewritten without its time.
		ids := tx.Bucket(bucketOutboxIDs)
		return ids.Put([]byte("pending"), bytes.Clone(ids.Get([]byte("pending"))[:8]))
	}))
	week := 7 * 24 * time.Hour

	r, err := db.PruneKeys(ctx, now.Add(time.Hour), 100) // a cut-off after everything
	require.NoError(t, err)
	require.Equal(t, jobs.PruneResult{Stamped: 3}, r, "untimed keys are stamped, not deleted; the pending id is left alone")
	r, err = db.PruneKeys(ctx, now.Add(-time.Minute), 100)
	require.NoError(t, err)
	require.Equal(t, jobs.PruneResult{}, r, "stamped keys are kept until the window passes")

	now = now.Add(week + time.Hour)
	r, err = db.PruneKeys(ctx, now.Add(-week), 1)
	require.NoError(t, err)
	require.True(t, r.More, "a batch of one leaves the sweep unfinished")
	total := r.Deleted
	for r.More {
		r, err = db.PruneKeys(ctx, now.Add(-week), 1)
		require.NoError(t, err)
		total += r.Deleted
	}
	require.Equal(t, 3, total, "a sweep past the window deletes the stamped keys")
	pending, _, err := db.Outbox(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.NoError(t, db.SettleNotification(ctx, "pending"), "the pending id still finds its notification")
	require.NoError(t, db.Check())
}

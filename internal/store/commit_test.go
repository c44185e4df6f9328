package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestCommitter_Groups checks the group commit: concurrent changes are all
// committed, a change that fails or panics is answered with its error and
// leaves nothing behind, and its neighbours are committed without it.
func TestCommitter_Groups(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }))
	c := &committer{db: db}
	boom := errors.New("boom")

	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.do(func(tx *bolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
					return err
				}
				switch i % 50 {
				case 7:
					return boom // after a write: that write must not stay
				case 13:
					panic("bad change")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		for i := range n {
			v := tx.Bucket([]byte("b")).Get(fmt.Appendf(nil, "k%03d", i))
			switch i % 50 {
			case 7:
				require.ErrorIs(t, errs[i], boom)
				require.Nil(t, v, "a failed change leaves nothing")
			case 13:
				require.ErrorContains(t, errs[i], "panicked")
				require.Nil(t, v, "a panicked change leaves nothing")
			default:
				require.NoError(t, errs[i], "change %d", i)
				require.Equal(t, []byte("v"), v, "change %d committed", i)
			}
		}
		return nil
	}))
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.running && len(c.queue) == 0
	}, 60*time.Second, time.Millisecond, "the loop ends when the queue is empty")
}

// TestPutHome_CommitsOnlyChanges checks that an App Home refresh that
// changes nothing of its record, and a prune with nothing expired, commit
// nothing (no fsync), while real changes still commit.
func TestPutHome_CommitsOnlyChanges(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	txid := func() int {
		var id int
		require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }))
		return id
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	home := jobs.HomeView{User: "U1", Keys: []string{"alice"}, Expires: now.Add(time.Hour)}

	for _, tc := range []struct {
		name      string
		do        func() (bool, error)
		commits   bool
		wantFound bool
	}{
		{"refresh of a home never opened", func() (bool, error) { return db.PutHome(ctx, home, false) }, false, false},
		{"open", func() (bool, error) { return db.PutHome(ctx, home, true) }, true, true},
		{"refresh, keys unchanged, no jobs named", func() (bool, error) { return db.PutHome(ctx, home, false) }, false, true},
		{"refresh showing a job", func() (bool, error) {
			h := home
			h.Jobs = []string{"qa-1"}
			return db.PutHome(ctx, h, false)
		}, true, true},
		{"refresh showing the same job", func() (bool, error) {
			h := home
			h.Jobs = []string{"qa-1"}
			h.Expires = now.Add(time.Minute) // ignored: not a subscription
			return db.PutHome(ctx, h, false)
		}, false, true},
		{"prune, nothing expired", func() (bool, error) { n, err := db.PruneHomes(ctx, now); return n > 0, err }, false, false},
		{"prune, one expired", func() (bool, error) { n, err := db.PruneHomes(ctx, now.Add(2*time.Hour)); return n > 0, err }, true, true},
	} {
		before := txid()
		found, err := tc.do()
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.wantFound, found, tc.name)
		require.Equal(t, tc.commits, txid() > before, "%s: committed", tc.name)
	}
	users, err := db.HomesFor(ctx, "qa-1", nil, now)
	require.NoError(t, err)
	require.Empty(t, users, "the pruned home is gone with its index entries")
}

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
	c := newCommitter(db)
	boom := errors.New("boom")

	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.do(nil, func(tx *bolt.Tx) error {
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

// TestCommitter_GathersPrepared: a commit that starts while a change is
// being prepared waits for it (here without a time limit), so both share
// one transaction; with nothing in preparation, or once the preparation is
// abandoned, a change is committed without waiting.
func TestCommitter_GathersPrepared(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	c := newCommitter(db)
	c.maxGather = time.Hour // only the preparation's end can release the commit

	// Nothing in preparation: a lone change commits at once.
	require.NoError(t, c.do(nil, func(*bolt.Tx) error { return nil }))
	waitIdle(t, c)

	// A change queued while another is prepared waits for it: one transaction.
	txids := make(chan int, 2)
	record := func(tx *bolt.Tx) error { txids <- tx.ID(); return nil }
	prep := c.prepare()
	first := make(chan error, 1)
	go func() { first <- c.do(nil, record) }()
	waitGathering(t, c, first)
	require.NoError(t, c.do(prep, record))
	require.NoError(t, <-first)
	require.Equal(t, <-txids, <-txids, "both changes in one transaction")
	waitIdle(t, c)

	// An abandoned preparation releases the commit waiting for it.
	prep = c.prepare()
	go func() { first <- c.do(nil, func(*bolt.Tx) error { return nil }) }()
	waitGathering(t, c, first)
	prep.abandon()
	prep.abandon() // harmless twice
	require.NoError(t, <-first)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Zero(t, c.preparing)
}

// waitIdle waits until the commit loop of the previous step has ended: a
// loop that already looked for preparations (none) and then finds a new
// change queued commits it without waiting, which is right for the product
// but not the start the next step needs.
func waitIdle(t *testing.T, c *committer) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) { // polling a condition
		c.mu.Lock()
		running := c.running
		c.mu.Unlock()
		if !running {
			return
		}
	}
	t.Fatal("the commit loop never ended")
}

// waitGathering waits until the change of done is queued behind a running
// commit loop that has not taken it (it waits for a preparation); done must
// not deliver meanwhile.
func waitGathering(t *testing.T, c *committer, done <-chan error) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) { // polling a condition
		select {
		case err := <-done:
			t.Fatalf("the commit did not wait for the change in preparation (err %v)", err)
		default:
		}
		c.mu.Lock()
		gathering := c.running && len(c.queue) == 1
		c.mu.Unlock()
		if gathering {
			return
		}
	}
	t.Fatal("no commit started")
}

// TestCommitStats checks the group commit's counters: every change is
// counted once, in no more commits than changes, with the pages written.
func TestCommitStats(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	before := db.CommitStats()
	require.Zero(t, before.Commits, "opening the file is not a group commit")

	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job := &jobs.Job{ID: fmt.Sprintf("s-%d", i), Name: "stats", Status: jobs.StatusInProgress, CreatedAt: time.Now()}
			errs[i] = db.CreateJob(context.Background(), job, jobs.Effects{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	// A refused change is carried by its commit like any other.
	err = db.CreateJob(context.Background(), &jobs.Job{ID: "s-0", Name: "again", CreatedAt: time.Now()}, jobs.Effects{})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))

	got := db.CommitStats()
	require.Equal(t, uint64(n+1), got.Changes)
	require.GreaterOrEqual(t, got.Commits, uint64(1))
	require.LessOrEqual(t, got.Commits, got.Changes)
	require.Greater(t, got.PagesWritten, before.PagesWritten)
	require.Positive(t, got.Busy)
	require.Positive(t, got.Write)
}

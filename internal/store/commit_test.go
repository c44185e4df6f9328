package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
	}, 10*time.Second, time.Millisecond, "the loop ends when the queue is empty")
}

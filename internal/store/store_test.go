package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newJob(id string, created time.Time, status jobs.Status) *jobs.Job {
	return storetest.NewJob(id, created, status)
}

// TestDB_Contract runs the jobs.Store contract suite on bbolt.
func TestDB_Contract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) jobs.Store {
		db := open(t)
		t.Cleanup(func() {
			if err := db.Check(); err != nil {
				t.Errorf("store check after the test: %v", err)
			}
		})
		return db
	})
}

func TestDB_Once(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	first, err := db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.True(t, first)
	require.NoError(t, db.Close())
	db, err = store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	first, err = db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.False(t, first, "dedupe survives a restart")
}

func TestOpen_BadFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	require.NoError(t, os.WriteFile(garbage, bytes.Repeat([]byte("not a bolt file "), 512), 0o600))
	for _, tc := range []struct{ name, path string }{
		{"not a database", garbage},
		{"a directory", dir},
		{"missing parent", filepath.Join(dir, "no", "such", "cla.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(tc.path)
			if err == nil {
				_ = db.Close()
			}
			require.Error(t, err)
		})
	}
}

// TestDB_UpdateJobConflict checks the optimistic change: a change whose
// record was changed by another while it ran is made again on the new
// record (nothing of the other change is lost, nothing of the stale one is
// written), and after three such conflicts it is made inside the write
// transaction, where it cannot be overtaken.
func TestDB_UpdateJobConflict(t *testing.T) {
	for _, tc := range []struct {
		name      string
		conflicts int
		calls     int
	}{
		{"no conflict", 0, 1},
		{"one conflict", 1, 2},
		{"three conflicts: changed in the transaction", 3, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			require.NoError(t, db.CreateJob(ctx, newJob("qa-1", time.Unix(1e9, 0), jobs.StatusPending), jobs.Effects{}))
			before, err := db.GetJob(ctx, "qa-1")
			require.NoError(t, err)
			calls := 0
			job, entries, err := db.UpdateJob(ctx, "qa-1", func(j *jobs.Job) (jobs.Effects, error) {
				calls++
				if calls <= tc.conflicts { // another change commits while this one runs
					done := make(chan error)
					go func() {
						_, _, err := db.UpdateJob(ctx, "qa-1", func(o *jobs.Job) (jobs.Effects, error) {
							o.Message += fmt.Sprintf("other-%d;", calls)
							o.Version++
							return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "other"}}}, nil
						})
						done <- err
					}()
					require.NoError(t, <-done)
				}
				j.Message += "mine;"
				j.Version++
				return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "mine"}}}, nil
			})
			require.NoError(t, err)
			require.Equal(t, tc.calls, calls)
			want := ""
			for i := range tc.conflicts {
				want += fmt.Sprintf("other-%d;", i+1)
			}
			want += "mine;"
			require.Equal(t, want, job.Message)
			require.Len(t, entries, 1)
			got, err := db.GetJob(ctx, "qa-1")
			require.NoError(t, err)
			require.Equal(t, want, got.Message, "what was written")
			require.Equal(t, before.Version+uint64(tc.conflicts+1), got.Version, "every change counted once")
			log, err := db.Log(ctx, "qa-1", 0, 100)
			require.NoError(t, err)
			require.Len(t, log, tc.conflicts+1, "one log line per change made")
		})
	}
}

package store_test

import (
	"bytes"
	"context"
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

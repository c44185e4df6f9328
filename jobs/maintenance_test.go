package jobs_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestService_RunMaintenance runs the real runner over a real bbolt file
// in a synctest bubble: a key is kept while younger than the retention
// window and pruned by the first pass after it, in batches of one key.
func TestService_RunMaintenance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
		require.NoError(t, err)
		defer func() { require.NoError(t, db.Close()) }()
		svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		seen := func(key string) bool {
			t.Helper()
			fresh, err := db.Once(ctx, key)
			require.NoError(t, err)
			return !fresh
		}
		require.False(t, seen("slack-event:first"))
		done := make(chan error, 1)
		go func() {
			done <- svc.RunMaintenance(ctx, jobs.Maintenance{DedupeRetention: 48 * time.Hour, Every: time.Hour, Batch: 1},
				slog.New(slog.DiscardHandler))
		}()
		synctest.Wait()
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		require.False(t, seen("slack-event:second"))
		time.Sleep(23 * time.Hour)
		synctest.Wait()
		require.True(t, seen("slack-event:second"), "kept at 23 hours")
		require.True(t, seen("slack-event:first"), "kept at 47 hours")
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		require.True(t, seen("slack-event:second"), "kept at 25 hours")
		require.False(t, seen("slack-event:first"), "pruned by the first pass after 48 hours: a replay is new")
		cancel()
		require.NoError(t, <-done, "the runner stops when its context ends")
	})
}

// TestService_PruneOnce_StoreFails: a failing store ends the pass with the
// error logged, not a panic or a spin.
func TestService_PruneOnce_StoreFails(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	require.NoError(t, db.Close())
	var logged captureHandler
	r := svc.PruneOnce(context.Background(), jobs.Maintenance{}, slog.New(&logged))
	require.Equal(t, jobs.PruneResult{}, r)
	require.Contains(t, logged.messages, "prune dedupe keys")
}

// captureHandler is a slog.Handler that keeps the messages it is given.
type captureHandler struct {
	mu       sync.Mutex
	messages []string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, r.Message)
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

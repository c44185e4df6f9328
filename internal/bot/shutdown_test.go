package bot

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// stopAsync cancels the running bot and returns a channel closed when Run
// has returned.
func (h *harness) stopAsync() <-chan struct{} {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.cancel = nil
	h.mu.Unlock()
	cancel()
	return done
}

// TestBot_Shutdown_FinishesAckedRequests: requests acked before shutdown
// (one running, the rest still queued behind busy workers) are handled
// after Run's context ends, with a live context, and Run returns only once
// they are done.
func TestBot_Shutdown_FinishesAckedRequests(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.grace = time.Minute // far longer than the handlers need
	h.stop()
	h.start()
	release := make(chan struct{})
	started := make(chan struct{}, 64)
	var handled, liveCtx atomic.Int64
	h.bot.SetRoute(KindInteractive, Route{Handle: func(ctx context.Context, in *Incoming) {
		started <- struct{}{}
		<-release
		handled.Add(1)
		if ctx.Err() == nil {
			// A store write still works: the handler finishes its job.
			if _, err := h.svc.Store().Once(ctx, "handled:"+in.EnvelopeID); err == nil {
				liveCtx.Add(1)
			}
		}
	}})
	n := h.bot.cfg.Concurrency + 3 // every worker busy, three queued
	acks := 0
	for i := range n {
		h.bot.router.route(t.Context(), &Incoming{Kind: KindInteractive, EnvelopeID: fmt.Sprintf("env-%d", i)}, func(any) { acks++ })
	}
	require.Equal(t, n, acks, "every request was acked")
	for range h.bot.cfg.Concurrency {
		<-started
	}
	done := h.stopAsync()
	select {
	case <-done:
		t.Fatal("Run returned with acked requests unhandled")
	default:
	}
	close(release)
	<-done
	require.Equal(t, int64(n), handled.Load(), "running and queued requests were all handled")
	require.Equal(t, int64(n), liveCtx.Load(), "handlers ran with a live context after shutdown began")
}

// TestBot_Shutdown_GraceBounds: a handler that would run forever is
// cancelled when the grace is over, and Run returns.
func TestBot_Shutdown_GraceBounds(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.grace = 50 * time.Millisecond
	h.stop()
	h.start()
	started, sawCancel := make(chan struct{}), make(chan error, 1)
	h.bot.SetRoute(KindInteractive, Route{Handle: func(ctx context.Context, _ *Incoming) {
		close(started)
		<-ctx.Done()
		sawCancel <- ctx.Err()
	}})
	h.bot.router.route(t.Context(), &Incoming{Kind: KindInteractive, EnvelopeID: "env-stuck"}, func(any) {})
	<-started
	<-h.stopAsync()
	require.ErrorIs(t, <-sawCancel, context.Canceled, "the stuck handler was told to stop")
}

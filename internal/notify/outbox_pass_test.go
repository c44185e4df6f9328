package notify

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// hookStore runs afterRead once a pass has read the due outbox work, to stage a
// lane finishing between that read and the pass's planning.
type hookStore struct {
	jobs.Store
	afterRead func()
}

func (h *hookStore) OutboxDue(ctx context.Context, q jobs.OutboxQuery) (jobs.OutboxWork, error) {
	work, err := h.Store.OutboxDue(ctx, q)
	if h.afterRead != nil {
		h.afterRead()
	}
	return work, err
}

// blockingNotifier counts calls and holds the first one until released.
type blockingNotifier struct {
	calls   chan string
	release chan struct{}
}

func (b *blockingNotifier) Notify(ctx context.Context, n jobs.Notification, _ *jobs.Job) error {
	b.calls <- n.ID
	<-b.release
	return nil
}

func TestOutbox_PassNeverRedeliversALaneThatJustFinished(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	hs := &hookStore{Store: db}
	svc := jobs.NewService(hs, jobs.NewBroker(), jobs.Options{})
	notifier := &blockingNotifier{calls: make(chan string, 10), release: make(chan struct{})}
	o := NewOutbox(svc, map[jobs.ChannelType]jobs.Notifier{"webhook": notifier}, slog.New(slog.DiscardHandler))
	_, err = svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-race", Name: "deploy", Gate: webhookGate("http://a.example/")})
	require.NoError(t, err)

	o.pass(ctx) // starts the lane; its delivery blocks in Notify
	var first string
	select {
	case first = <-notifier.calls:
	case <-time.After(60 * time.Second):
		t.Fatal("the first pass delivered nothing within 60s")
	}
	key := laneKey(jobs.Notification{Channel: jobs.NotifyChannel{Type: "webhook", URL: "http://a.example/"}})
	require.True(t, o.isBusy(key))

	// A second pass reads the outbox while the delivery is in flight; the
	// delivery then settles and frees its lane before the pass plans.
	hs.afterRead = func() {
		hs.afterRead = nil
		close(notifier.release)
		deadline := time.Now().Add(60 * time.Second)
		for o.isBusy(key) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		require.False(t, o.isBusy(key), "the first delivery finished")
	}
	o.pass(ctx)
	o.wg.Wait()
	close(notifier.calls)
	var again []string
	for id := range notifier.calls {
		again = append(again, id)
	}
	require.Empty(t, again, "notification %s was delivered again from a stale read", first)
	pending, _, err := db.Outbox(ctx, horizon, 10)
	require.NoError(t, err)
	require.Empty(t, pending)
}

package notify

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

var requester = jobs.Identity{Name: "ci"}

// call is one Notify the fake notifier saw.
type call struct {
	id, event, target string
	at                time.Time
}

// fakeNotifier answers with a script of errors per target (nil once the
// script runs out) and records every call.
type fakeNotifier struct {
	mu     sync.Mutex
	script map[string][]error
	calls  []call
	hook   func(jobs.Notification)
}

func (f *fakeNotifier) Notify(ctx context.Context, n jobs.Notification, job *jobs.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := n.Channel.Target()
	f.calls = append(f.calls, call{id: n.ID, event: n.Event, target: t, at: time.Now()})
	if f.hook != nil {
		f.hook(n)
	}
	if s := f.script[t]; len(s) > 0 {
		f.script[t] = s[1:]
		return s[0]
	}
	return nil
}

// events lists "event" of the calls to one target, in call order.
func (f *fakeNotifier) events(target string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.target == target {
			out = append(out, c.event)
		}
	}
	return out
}

// lastAt is when the target was last called.
func (f *fakeNotifier) lastAt(target string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at time.Time
	for _, c := range f.calls {
		if c.target == target {
			at = c.at
		}
	}
	return at
}

// settleDown lets the worker and the store's group commit (timers in the
// bubble) finish what they started.
func settleDown() {
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
}

// env is a service over a real bbolt file and a running outbox.
type env struct {
	path   string
	db     *store.DB
	svc    *jobs.Service
	box    *Outbox
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// start opens the store at path and runs an outbox over it; call it inside a
// synctest bubble.
func start(t *testing.T, path string, notifiers map[jobs.ChannelType]jobs.Notifier) *env {
	t.Helper()
	db, err := store.Open(path)
	require.NoError(t, err)
	e := &env{path: path, db: db, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{}), done: make(chan struct{})}
	e.box = NewOutbox(e.svc, notifiers, slog.New(slog.DiscardHandler))
	e.box.jitter = func() float64 { return 0 }
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.done)
		_ = e.box.Run(ctx)
	}()
	t.Cleanup(func() { e.stop(t) })
	// The worker has made its first pass and waits for a change before the
	// test makes one: otherwise whether a change is delivered at once (the
	// worker started late and reads it in its first pass) or after the
	// coalescing delay depends on which goroutine ran first (-cpu 1), and
	// the tests' clock arithmetic assumes the latter.
	synctest.Wait()
	return e
}

// stop ends the worker and closes the store, as a shutdown (or, for what
// is committed, a crash) does.
func (e *env) stop(t *testing.T) {
	e.once.Do(func() {
		e.cancel()
		<-e.done
		require.NoError(t, e.db.Close())
	})
}

func (e *env) pending(t *testing.T) []jobs.Notification {
	out, _, err := e.db.Outbox(context.Background(), horizon, 1000)
	require.NoError(t, err)
	return out
}

func (e *env) notifyLog(t *testing.T, jobID string) []string {
	entries, err := e.svc.Log(context.Background(), jobID, 0, 1000)
	require.NoError(t, err)
	var out []string
	for _, en := range entries {
		if en.Kind == jobs.LogNotify {
			out = append(out, en.Fields["outcome"])
		}
	}
	return out
}

func webhookGate(urls ...string) *jobs.GateConfig {
	g := &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}}
	for _, u := range urls {
		g.Channels = append(g.Channels, jobs.NotifyChannel{Type: "webhook", URL: u})
	}
	return g
}

func TestOutbox_RunOrderPerChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		const a, b = "http://a.example/hook", "http://b.example/hook"
		fake := &fakeNotifier{script: map[string][]error{a: {
			&jobs.RetryAfterError{After: 30 * time.Second, Err: errors.New("429")},
			errors.New("connection refused"),
		}}}
		e := start(t, filepath.Join(t.TempDir(), "cla.db"), map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
		_, err := e.svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-1", Name: "deploy", Gate: webhookGate(a, b)})
		require.NoError(t, err)
		_, _, err = e.svc.Reassign(ctx, requester, jobs.ViaAPI, "qa-1", []string{"carol"})
		require.NoError(t, err)
		time.Sleep(time.Second) // past the coalescing delay
		synctest.Wait()

		require.Equal(t, []string{"gate_opened", "reassigned"}, fake.events(b), "lane b is not held by lane a")
		require.Equal(t, []string{"gate_opened"}, fake.events(a), "reassigned waits behind the failed gate_opened")
		p := e.pending(t)
		require.Len(t, p, 2)
		require.Equal(t, jobs.NotifyGateOpened, p[0].Event)
		require.Equal(t, 1, p[0].Attempts)
		require.Equal(t, fake.lastAt(a).Add(30*time.Second), p[0].DueAt.Local(), "Retry-After is honoured exactly")

		time.Sleep(30 * time.Second)
		synctest.Wait()
		require.Equal(t, []string{"gate_opened", "gate_opened"}, fake.events(a))
		failedAt := fake.lastAt(a)
		require.Equal(t, failedAt.Add(time.Second), e.pending(t)[0].DueAt.Local(), "second failure: backoff 1 s (2 s halved, no jitter)")

		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, []string{"gate_opened", "gate_opened", "gate_opened", "reassigned"}, fake.events(a))
		require.Empty(t, e.pending(t), "everything settled")
		require.Equal(t, []string{"failed:1", "delivered"}, e.notifyLog(t, "qa-1"),
			"first failure logged, second not (rate limit), recovery noted")
		require.Equal(t, 4.0, testutil.ToFloat64(e.box.metrics.sent.WithLabelValues("webhook")))
		require.Equal(t, 2.0, testutil.ToFloat64(e.box.metrics.failures.WithLabelValues("webhook")))
	})
}

func TestOutbox_RunDeliversAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		// The state change commits with its notification; the server dies
		// before the worker delivers anything.
		db, err := store.Open(path)
		require.NoError(t, err)
		svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
		_, err = svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-2", Name: "deploy", Gate: webhookGate("http://a.example/")})
		require.NoError(t, err)
		require.NoError(t, db.Close())

		fake := &fakeNotifier{}
		for range 2 {
			e := start(t, path, map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
			settleDown()
			e.box.Poke()
			settleDown()
			require.Empty(t, e.pending(t))
			e.stop(t)
		}
		require.Equal(t, []string{"gate_opened"}, fake.events("http://a.example/"), "delivered once across restarts")
	})
}

func TestOutbox_RunResendsAfterCrashBeforeSettle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		fake := &fakeNotifier{}
		e := start(t, path, map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
		fake.hook = func(jobs.Notification) { e.cancel() } // dies right after delivering
		_, err := e.svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-3", Name: "deploy", Gate: webhookGate("http://a.example/")})
		require.NoError(t, err)
		settleDown()
		e.stop(t)
		require.Len(t, fake.calls, 1)
		fake.hook = nil

		e = start(t, path, map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
		settleDown()
		require.Len(t, fake.calls, 2, "at least once: resent after the crash")
		require.Equal(t, fake.calls[0].id, fake.calls[1].id, "with the same id, for the receiver to drop")
		require.Empty(t, e.pending(t))
	})
}

func TestOutbox_RunSettlesWithoutNotifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		e := start(t, filepath.Join(t.TempDir(), "cla.db"), map[jobs.ChannelType]jobs.Notifier{})
		_, err := e.svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-4", Name: "deploy", Gate: webhookGate("http://a.example/")})
		require.NoError(t, err)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Empty(t, e.pending(t), "no notifier for webhook: settled unsent")
		require.Equal(t, []string{"skipped"}, e.notifyLog(t, "qa-4"), "the job log says it was skipped")
		entries, err := e.svc.Log(ctx, "qa-4", 0, 100)
		require.NoError(t, err)
		last := entries[len(entries)-1]
		require.Equal(t, "notification gate_opened via webhook http://a.example skipped: webhooks are not configured (no notify.webhook.secret)", last.Text)
	})
}

func TestOutbox_RunDropsPermanentFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fake := &fakeNotifier{script: map[string][]error{"http://a.example/": {Permanent(errors.New("no such mailbox"))}}}
		e := start(t, filepath.Join(t.TempDir(), "cla.db"), map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
		_, err := e.svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-5", Name: "deploy", Gate: webhookGate("http://a.example/")})
		require.NoError(t, err)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Empty(t, e.pending(t))
		require.Equal(t, []string{"dropped"}, e.notifyLog(t, "qa-5"))
		require.Len(t, fake.calls, 1)
		job, err := e.svc.GetJob(ctx, "qa-5")
		require.NoError(t, err)
		require.Equal(t, "notification delivery failed: gate_opened via webhook http://a.example: permanent: no such mailbox", job.Message,
			"the RFC's job message")
	})
}

func TestOutbox_RunRateLimitsFailureLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		const a = "http://a.example/"
		var script []error
		for range 25 {
			script = append(script, &jobs.RetryAfterError{After: time.Minute, Err: errors.New("down")})
		}
		fake := &fakeNotifier{script: map[string][]error{a: script}}
		e := start(t, filepath.Join(t.TempDir(), "cla.db"), map[jobs.ChannelType]jobs.Notifier{"webhook": fake})
		_, err := e.svc.CreateJob(ctx, requester, jobs.ViaAPI, jobs.NewJob{ID: "qa-6", Name: "deploy", Gate: webhookGate(a)})
		require.NoError(t, err)
		time.Sleep(time.Second)
		for range 25 {
			synctest.Wait()
			time.Sleep(time.Minute)
		}
		synctest.Wait()
		require.Len(t, fake.calls, 26, "retried until it worked")
		require.Equal(t, []string{"failed:1", "failed:10", "failed:20", "delivered"}, e.notifyLog(t, "qa-6"))
	})
}

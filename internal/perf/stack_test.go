package perf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot"
	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

const (
	secret   = "perf-webhook-secret"
	tokenCI  = "perf-token-ci"
	writers  = 8  // mirrored-message writers, one channel each
	clients  = 64 // concurrent HTTP clients
	deadHook = "/dead"
)

var ci = jobs.Identity{Name: "ci", Admin: true} // admins may resolve unassigned gates

// stack is a whole server in-process: store, service, outbox worker with a
// real webhook notifier, HTTP API and Slack bot on an emulator.
type stack struct {
	b      *testing.B
	db     *store.DB
	svc    *jobs.Service
	emu    *slackemu.Emulator
	srv    *httptest.Server
	hooks  *httptest.Server // "/dead" answers 503, everything else 204
	user   slackemu.User
	chans  []slackemu.Channel
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hc     *http.Client
	// patience bounds waitPending; 20 minutes when zero.
	patience time.Duration
}

func newStack(b *testing.B) *stack {
	b.Helper()
	s := &stack{b: b}
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	s.db = db
	s.svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	s.hooks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == deadHook {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	cb, err := notify.NewCallbacks(secret, nil)
	require.NoError(b, err)
	hook, err := notify.NewWebhook(secret, "http://cla.test", cb, nil)
	require.NoError(b, err)
	quiet := slog.New(slog.DiscardHandler)
	outbox := notify.NewOutbox(s.svc, map[jobs.ChannelType]jobs.Notifier{"webhook": hook}, quiet)

	api := web.New(web.Config{Service: s.svc, Logger: quiet,
		Keyring: web.NewKeyring([]web.Credential{{Digest: web.HashToken(tokenCI), Identity: ci}})})
	s.srv = httptest.NewServer(api)

	s.emu = slackemu.NewTest(b, slackemu.Config{RedeliveryDelay: 3 * time.Second, MaxRetries: 1000})
	s.user = s.emu.AddUser(slackemu.User{Email: "alice@example.com"})
	bt, err := bot.New(bot.Config{Service: s.svc, AppToken: s.emu.AppToken(), BotToken: s.emu.BotToken(),
		APIURL: s.emu.APIURL(), PublicURL: "http://cla.test", Logger: quiet})
	require.NoError(b, err)

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, run := range []func(context.Context) error{outbox.Run, bt.Run} {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = run(ctx) }()
	}
	require.NoError(b, s.emu.WaitConnections(ctx, 1))
	for i := range writers {
		id := fmt.Sprintf("chat-%d", i)
		_, err := s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "chat"})
		require.NoError(b, err)
		ch := s.emu.AddChannel(slackemu.Channel{Name: "job-" + id, Members: []string{s.user.ID, s.emu.BotUserID()}})
		_, err = s.svc.BindChannel(ctx, jobs.System, jobs.ViaAPI, id, jobs.Channel{ID: ch.ID, Name: ch.Name})
		require.NoError(b, err)
		s.chans = append(s.chans, ch)
	}
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	s.hc = &http.Client{Transport: tr}
	b.Cleanup(func() {
		cancel()
		s.wg.Wait()
		api.Stop()
		s.srv.Close()
		tr.CloseIdleConnections()
		s.hooks.Close()
		_ = db.Close()
	})
	return s
}

// pending is the number of notifications not settled yet.
func (s *stack) pending() int {
	work, err := s.db.OutboxDue(context.Background(), jobs.OutboxQuery{At: time.Unix(0, 0), MaxLanes: 1})
	require.NoError(s.b, err)
	return work.Pending
}

// waitPending waits until at most n notifications are pending.
func (s *stack) waitPending(n int) {
	patience := s.patience
	if patience == 0 {
		patience = 20 * time.Minute
	}
	deadline := time.Now().Add(patience)
	for s.pending() > n {
		if time.Now().After(deadline) {
			s.b.Fatalf("outbox still has %d pending, want %d", s.pending(), n)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting for time
	}
}

// backlog queues n notifications behind a dead webhook: one job whose open
// gate notifies the dead target, and n reminders of it, enqueued in large
// transactions.
func (s *stack) backlog(n int) {
	ctx := context.Background()
	dead := s.hooks.URL + deadHook
	_, err := s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "backlog", Name: "dead target",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "never", Channels: []jobs.NotifyChannel{{Type: "webhook", URL: dead}}}})
	require.NoError(s.b, err)
	now := s.svc.Now()
	for start := 0; start < n; start += 5000 {
		var ns []jobs.Notification
		for i := start; i < min(n, start+5000); i++ {
			ns = append(ns, jobs.Notification{ID: fmt.Sprintf("backlog/g1/reminder/%d", i), JobID: "backlog", GateID: "g1",
				Event: jobs.NotifyReminder, Channel: jobs.NotifyChannel{Type: "webhook", URL: dead}, CreatedAt: now, DueAt: now})
		}
		_, _, err := s.db.UpdateJob(ctx, "backlog", func(*jobs.Job) (jobs.Effects, error) { return jobs.Effects{Notify: ns}, nil })
		require.NoError(s.b, err)
	}
}

// completable creates n jobs whose action gate notifies a live webhook
// (so each completion enqueues work and wakes the outbox), and waits until
// those announcements are delivered.
func (s *stack) completable(prefix string, n, keep int) []string {
	ids := make([]string, n)
	live := s.hooks.URL + "/live"
	parallel(clients, n, func(i int) {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "step", Channels: []jobs.NotifyChannel{{Type: "webhook", URL: live}}}
		_, err := s.svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: ids[i], Name: "bench", Gate: &cfg})
		if err != nil {
			s.b.Error(err)
		}
	})
	s.waitPending(keep)
	return ids
}

// complete completes each job through the HTTP API with 64 clients and
// returns the sorted latencies and the elapsed time.
func (s *stack) complete(ids []string) ([]time.Duration, time.Duration) {
	body := []byte(`{"status":"successful","message":"done"}`)
	lat := make([]time.Duration, len(ids))
	var failed atomic.Int64
	start := time.Now()
	parallel(clients, len(ids), func(i int) {
		req, _ := http.NewRequest("POST", s.srv.URL+"/v1/jobs/"+ids[i]+"/complete", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokenCI)
		t0 := time.Now()
		resp, err := s.hc.Do(req)
		if err != nil {
			failed.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat[i] = time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			failed.Add(1)
		}
	})
	elapsed := time.Since(start)
	require.Zero(s.b, failed.Load(), "completions failed")
	slices.Sort(lat)
	return lat, elapsed
}

// mirror posts n messages from 8 writers into the 8 bound channels and
// returns when every one is acked (the ack waits for the durable append).
func (s *stack) mirror(n int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				if _, err := s.emu.PostMessage(s.user.ID, s.chans[w].ID, fmt.Sprintf("msg %d", i)); err != nil {
					s.b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(s.b, s.emu.WaitIdle(ctx))
	return time.Since(start)
}

// parallel runs fn(0..n-1) on `workers` goroutines.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(float64(len(d))*q))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
)

// hangingHosts are webhook receivers on 20 loopback addresses
// (127.0.0.2…) that accept every request and never answer, counting how
// many hang at once, in all and per host.
type hangingHosts struct {
	urls    []string
	arrived chan string // a host, each time a request starts hanging
	release chan struct{}

	mu      sync.Mutex
	now     map[string]int
	maxHost int
	maxAll  int
	all     int
}

func startHanging(t *testing.T, hosts, perHost int) *hangingHosts {
	t.Helper()
	h := &hangingHosts{arrived: make(chan string, hosts*perHost), release: make(chan struct{}), now: map[string]int{}}
	for i := range hosts {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+2))
		require.NoError(t, err)
		host := ln.Addr().(*net.TCPAddr).IP.String()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.hang(r.Context(), host) }),
			ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		for j := range perHost {
			h.urls = append(h.urls, fmt.Sprintf("http://%s/hook/%d", ln.Addr(), j))
		}
	}
	t.Cleanup(func() { close(h.release) }) // runs first: handlers return before the servers close
	return h
}

func (h *hangingHosts) hang(ctx context.Context, host string) {
	h.mu.Lock()
	h.now[host]++
	h.all++
	h.maxHost = max(h.maxHost, h.now[host])
	h.maxAll = max(h.maxAll, h.all)
	h.mu.Unlock()
	h.arrived <- host
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	h.mu.Lock()
	h.now[host]--
	h.all--
	h.mu.Unlock()
}

func (h *hangingHosts) peaks() (all, perHost int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxAll, h.maxHost
}

// TestOutbox_WebhooksCannotStarveEmail replays issue 17 item 4: a gate with
// 160 webhook URLs on 20 hosts that accept and never answer takes only the
// webhook budget (8 at once, 2 per host), so an email queued behind them is
// delivered by the real SMTP server while every one of them still hangs.
// Before, 16 shared slots all hung on webhooks and the email waited for
// their timeouts.
func TestOutbox_WebhooksCannotStarveEmail(t *testing.T) {
	hooks := startHanging(t, 20, 8)
	smtpSrv := startSMTP(t, false, "", "")
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Limits: jobs.Limits{MaxChannels: 200}})

	guard, err := notify.NewHostGuard([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	cb, err := notify.NewCallbacks("s3cret", nil)
	require.NoError(t, err)
	hook, err := notify.NewWebhook("s3cret", "https://cla.example.com", cb, guard.Client(0)) // no client timeout: they hang
	require.NoError(t, err)
	box := notify.NewOutbox(svc, map[jobs.ChannelType]jobs.Notifier{
		jobs.ChannelWebhook: hook, jobs.ChannelEmail: newEmail(t, smtpSrv, notify.EmailConfig{})}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = box.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	var chans []jobs.NotifyChannel
	for _, u := range hooks.urls {
		chans = append(chans, jobs.NotifyChannel{Type: jobs.ChannelWebhook, URL: u})
	}
	_, err = svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "hooks", Name: "n",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "fan-out", Channels: chans}})
	require.NoError(t, err)

	budget := notify.DefaultBudgets().Webhook
	deadline := time.After(60 * time.Second) // generous for a loaded machine; the email normally takes milliseconds
	for range budget.Total {
		select {
		case <-hooks.arrived:
		case <-deadline:
			t.Fatal("the webhooks never started")
		}
	}

	_, err = svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "mail", Name: "n",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk",
			Channels: []jobs.NotifyChannel{{Type: jobs.ChannelEmail, To: "ops@example.com"}}}})
	require.NoError(t, err)
	select {
	case m := <-smtpSrv.got:
		require.Equal(t, []string{"ops@example.com"}, m.to)
	case <-deadline:
		t.Fatal("the email starved behind hanging webhooks")
	}

	all, perHost := hooks.peaks()
	require.Equal(t, budget.Total, all, "webhooks hang only in their own budget")
	require.LessOrEqual(t, perHost, budget.PerTarget, "and at most %d per host", budget.PerTarget)
	select {
	case host := <-hooks.arrived:
		t.Fatalf("a webhook to %s started past the budget", host)
	default:
	}
}

// pacedSlack is a Slack notifier whose every post waits for its channel's
// pace (as chat.postMessage's one message a second per channel does)
// until released, counting the posts waiting at once.
type pacedSlack struct {
	started chan string
	release chan struct{}
	mu      sync.Mutex
	now     int
	peak    int
}

func (p *pacedSlack) Notify(ctx context.Context, n jobs.Notification, _ *jobs.Job) error {
	p.mu.Lock()
	p.now++
	p.peak = max(p.peak, p.now)
	p.mu.Unlock()
	p.started <- n.Channel.ChannelID
	select {
	case <-p.release:
	case <-ctx.Done():
	}
	p.mu.Lock()
	p.now--
	p.mu.Unlock()
	return nil
}

// A Slack delivery holds its slot while it waits for its channel's pace,
// so the Slack budget bounds how many channels are announced each second:
// 16 channels wait at once, not 4 (with 4, 10,000 gates in 2,500 channels
// took 21 minutes to announce instead of 5: BenchmarkSlackBurst).
func TestOutbox_SlackChannelsPaceInParallel(t *testing.T) {
	const channels = 20
	budget := notify.DefaultBudgets().Slack
	require.Equal(t, 16, budget.Total)
	slack := &pacedSlack{started: make(chan string, channels), release: make(chan struct{})}
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	box := notify.NewOutbox(svc, map[jobs.ChannelType]jobs.Notifier{jobs.ChannelSlack: slack}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = box.Run(ctx) }()
	t.Cleanup(func() { close(slack.release); cancel(); <-done })

	for i := range channels {
		_, err := svc.CreateJob(ctx, jobs.Identity{Name: "ci", Admin: true}, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("j-%d", i), Name: "n",
			Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "step",
				Channels: []jobs.NotifyChannel{{Type: jobs.ChannelSlack, ChannelID: fmt.Sprintf("C%03d", i)}}}})
		require.NoError(t, err)
	}
	deadline := time.After(60 * time.Second)
	seen := map[string]bool{}
	for range budget.Total {
		select {
		case ch := <-slack.started:
			require.False(t, seen[ch], "channel %s posted twice at once", ch)
			seen[ch] = true
		case <-deadline:
			t.Fatalf("only %d Slack channels were announced at once, want %d", len(seen), budget.Total)
		}
	}
	select {
	case ch := <-slack.started:
		t.Fatalf("a post to %s started past the Slack budget", ch)
	default:
	}
}

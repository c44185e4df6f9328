package perf

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// homes is a store with open gates and 1,000 people who opened their App
// Home, kept current by a running gates.Handler.
type homes struct {
	b     *testing.B
	svc   *jobs.Service
	emu   *slackemu.Emulator
	alice slackemu.User
	seq   int
}

const subscribed = 1000

func newHomes(b *testing.B, open int) *homes {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	h := &homes{b: b, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{})}
	h.emu = slackemu.NewTest(b, slackemu.Config{})
	h.alice = h.emu.AddUser(slackemu.User{Email: "alice@example.com"})
	users := []string{h.alice.ID}
	for i := range subscribed - 1 {
		users = append(users, h.emu.AddUser(slackemu.User{Email: fmt.Sprintf("u%d@example.com", i)}).ID)
	}
	parallel(clients, open, func(i int) {
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "background", Assignees: []string{fmt.Sprintf("u%d@example.com", i%(subscribed-1))}}
		_, err := h.svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("bg-%d", i), Name: "bg", Gate: &cfg})
		if err != nil {
			b.Error(err)
		}
	})
	api := slack.New(h.emu.BotToken(), slack.OptionAPIURL(h.emu.APIURL()))
	handler := gates.NewHandler(gates.Config{API: api, Service: h.svc, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = handler.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		_ = db.Close()
	})
	parallel(8, len(users), func(i int) {
		if err := handler.HomeOpened(ctx, users[i]); err != nil {
			b.Error(err)
		}
	})
	return h
}

// publishes counts views.publish calls per user.
func (h *homes) publishes() map[string]int {
	out := map[string]int{}
	for _, c := range h.emu.Calls("views.publish") {
		out[c.Args["user_id"]]++
	}
	return out
}

// change runs one change that concerns alice and returns how long after
// its start her App Home was published again.
func (h *homes) change(fn func()) time.Duration {
	start := time.Now()
	fn()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := h.emu.WaitCall(ctx, "views.publish", func(c slackemu.Call) bool {
		return c.Args["user_id"] == h.alice.ID && c.At.After(start)
	})
	require.NoError(h.b, err)
	return c.At.Sub(start)
}

// openAndResolve opens a gate assigned to alice and resolves it, timing
// the App Home refresh that follows each.
func (h *homes) openAndResolve() []time.Duration {
	h.seq++
	id := fmt.Sprintf("alice-%d", h.seq)
	ctx := context.Background()
	open := h.change(func() {
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "for alice", Assignees: []string{"alice@example.com"}}
		_, err := h.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "mine", Gate: &cfg})
		require.NoError(h.b, err)
	})
	resolved := h.change(func() {
		_, _, err := h.svc.Resolve(ctx, jobs.Identity{Name: "alice", Email: "alice@example.com"}, jobs.ViaAPI, id,
			jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(h.b, err)
	})
	return []time.Duration{open, resolved}
}

// BenchmarkAppHome measures how long after a change to one of her gates a
// person's App Home is published again, with 1,000 homes subscribed, at
// 1,000 and at 100,000 open gates (waiting on the other 999 people), side
// by side. It also checks that no other home is published meanwhile.
//
//	go test -run '^$' -bench AppHome -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkAppHome(b *testing.B) {
	const rounds = 250
	small, large := newHomes(b, 1_000), newHomes(b, 100_000)
	lat := map[*homes][]time.Duration{}
	before := map[*homes]map[string]int{small: small.publishes(), large: large.publishes()}
	b.ResetTimer()
	for range b.N {
		for range rounds {
			for _, h := range []*homes{small, large} {
				lat[h] = append(lat[h], h.openAndResolve()...)
			}
		}
	}
	b.StopTimer()
	for _, h := range []*homes{small, large} {
		after := h.publishes()
		for user, n := range after {
			if user != h.alice.ID && n != before[h][user] {
				b.Fatalf("home of %s was published %d times for changes that do not concern them", user, n-before[h][user])
			}
		}
		slices.Sort(lat[h])
	}
	p99s, p99l := quantile(lat[small], 0.99), quantile(lat[large], 0.99)
	b.ReportMetric(ms(quantile(lat[small], 0.5)), "p50-ms-1k")
	b.ReportMetric(ms(p99s), "p99-ms-1k")
	b.ReportMetric(ms(quantile(lat[large], 0.5)), "p50-ms-100k")
	b.ReportMetric(ms(p99l), "p99-ms-100k")
	b.ReportMetric(ms(p99l)/ms(p99s), "p99-ratio")
}

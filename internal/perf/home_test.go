package perf

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

	mu      sync.Mutex
	events  map[string]time.Time // job id → when its first gate event was delivered
	foreign int                  // views.publish calls for another user's home
}

const subscribed = 1000

func newHomes(b *testing.B, open int) *homes {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	h := &homes{b: b, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{}), events: map[string]time.Time{}}
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
	// The benchmark's own broker subscriber notes when each change's event
	// is delivered: the refresh is timed from there, after the commit.
	sub := h.svc.Broker().Subscribe("perf-clock", 1024)
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-sub.Events:
				if e.Job != nil && e.Gate != nil && strings.HasPrefix(e.Job.ID, "alice-") {
					h.mu.Lock()
					h.events[e.Job.ID+"/"+string(e.Type)] = time.Now()
					h.mu.Unlock()
				}
			}
		}
	}()
	h.emu.ResetCalls() // WaitCall scans the call log under the emulator's lock: keep it short
	return h
}

// change runs one change to alice's job id (whose event is ev) and
// returns how long after its event was delivered, and how long after the
// change started (its durable commit included), her App Home was
// published again. It counts publishes of other homes meanwhile and then
// forgets the calls.
func (h *homes) change(id string, ev jobs.EventType, fn func()) (refresh, total time.Duration) {
	start := time.Now()
	fn()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := h.emu.WaitCall(ctx, "views.publish", func(c slackemu.Call) bool {
		return c.Args["user_id"] == h.alice.ID && c.At.After(start)
	})
	require.NoError(h.b, err)
	for _, o := range h.emu.Calls("views.publish") {
		if o.Args["user_id"] != h.alice.ID {
			h.foreign++
		}
	}
	h.emu.ResetCalls()
	h.mu.Lock()
	at, ok := h.events[id+"/"+string(ev)]
	h.mu.Unlock()
	require.True(h.b, ok, "no %s event for %s", ev, id)
	return max(0, c.At.Sub(at)), c.At.Sub(start)
}

// openAndResolve opens a gate assigned to alice and resolves it, timing
// the App Home refresh that follows each.
func (h *homes) openAndResolve() (refresh, total []time.Duration) {
	h.seq++
	id := fmt.Sprintf("alice-%d", h.seq)
	ctx := context.Background()
	r1, t1 := h.change(id, jobs.EventGateOpened, func() {
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "for alice", Assignees: []string{"alice@example.com"}}
		_, err := h.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "mine", Gate: &cfg})
		require.NoError(h.b, err)
	})
	r2, t2 := h.change(id, jobs.EventGateResolved, func() {
		_, _, err := h.svc.Resolve(ctx, jobs.Identity{Name: "alice", Email: "alice@example.com"}, jobs.ViaAPI, id,
			jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(h.b, err)
	})
	return []time.Duration{r1, r2}, []time.Duration{t1, t2}
}

// BenchmarkAppHome measures how long after a change to one of her gates a
// person's App Home is published again, with 1,000 homes subscribed, at
// 1,000 and at 100,000 open gates (waiting on the other 999 people), side
// by side, rounds alternating. The refresh is timed from the delivery of
// the change's event (after its durable commit, which BenchmarkCommit
// measures) to the views.publish request reaching the emulator; the
// end-to-end time from the start of the change is reported too. It also
// checks that no other home is published meanwhile.
//
//	go test -run '^$' -bench AppHome -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkAppHome(b *testing.B) {
	const rounds = 250
	small, large := newHomes(b, 1_000), newHomes(b, 100_000)
	refresh := map[*homes][]time.Duration{}
	total := map[*homes][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for range rounds {
			for _, h := range []*homes{small, large} {
				r, t := h.openAndResolve()
				refresh[h] = append(refresh[h], r...)
				total[h] = append(total[h], t...)
			}
		}
	}
	b.StopTimer()
	for _, h := range []*homes{small, large} {
		if h.foreign > 0 {
			b.Fatalf("other homes were published %d times for changes that do not concern them", h.foreign)
		}
		slices.Sort(refresh[h])
		slices.Sort(total[h])
	}
	p99s, p99l := quantile(refresh[small], 0.99), quantile(refresh[large], 0.99)
	b.ReportMetric(ms(quantile(refresh[small], 0.5)), "p50-ms-1k")
	b.ReportMetric(ms(p99s), "p99-ms-1k")
	b.ReportMetric(ms(quantile(refresh[large], 0.5)), "p50-ms-100k")
	b.ReportMetric(ms(p99l), "p99-ms-100k")
	b.ReportMetric(ms(p99l)/ms(p99s), "p99-ratio")
	b.ReportMetric(ms(quantile(total[small], 0.99)), "e2e-p99-ms-1k")
	b.ReportMetric(ms(quantile(total[large], 0.99)), "e2e-p99-ms-100k")
}

package perf

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// BenchmarkSlackBurst opens 10,000 gates as fast as 64 clients can (the
// target is within one minute), each announced in one of 2,500 Slack
// channels (4 per channel: chat.postMessage's burst of 3 and one paced
// post) and assigned to one of 10 people, through the outbox, the Slack
// notifier and the bot's rate budget, against the emulator enforcing
// Slack's documented tiers (slackemu.SlackTiers). It waits until every
// announcement is posted and recorded, then asserts at most 2 Web API
// calls per gate and no 429, and reports calls per gate, the 429 count,
// the time to open the gates and the time until the outbox drained.
//
// It takes minutes (the outbox runs 16 lanes, and a channel takes one post
// a second after its burst), so it is a benchmark, not a test:
//
//	go test -run '^$' -bench SlackBurst -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkSlackBurst(b *testing.B) {
	const (
		gateCount = 10_000
		channels  = 2_500
		people    = 10
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})

	emu := slackemu.NewTest(b, slackemu.Config{RateLimits: slackemu.SlackTiers()})
	for i := range people {
		emu.AddUser(slackemu.User{Email: fmt.Sprintf("person%d@example.com", i)})
	}
	chans := make([]string, channels)
	for i := range chans {
		chans[i] = emu.AddChannel(slackemu.Channel{Name: fmt.Sprintf("ops-%d", i), Members: []string{emu.BotUserID()}}).ID
	}
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	bt, err := bot.New(bot.Config{Service: svc, AppToken: emu.AppToken(), BotToken: emu.BotToken(),
		APIURL: emu.APIURL(), PublicURL: "http://cla.test", Logger: quiet, Transport: tr})
	require.NoError(b, err)
	gcfg := gates.Config{API: bt.Client(), Service: svc, People: bt.People(), PublicURL: "http://cla.test",
		Logger: quiet, Budget: bt.Budget(), HTTP: bt.HTTPClient()}
	ann := gates.NewAnnouncer(gcfg)
	gcfg.Announcer = ann
	outbox := notify.NewOutbox(svc, map[jobs.ChannelType]jobs.Notifier{"slack": gates.NewNotifier(gcfg)}, quiet)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{outbox.Run, ann.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
		_ = db.Close()
	})
	s := &stack{b: b, db: db}
	emu.ResetCalls()

	b.ResetTimer()
	start := time.Now()
	parallel(clients, gateCount, func(i int) {
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: fmt.Sprintf("step %d", i),
			Assignees: []string{fmt.Sprintf("person%d@example.com", i%people)},
			Channels:  []jobs.NotifyChannel{{Type: "slack", ChannelID: chans[i%channels]}}}
		_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("burst-%d", i), Name: "burst", Gate: &cfg})
		if err != nil {
			b.Error(err)
		}
	})
	opened := time.Since(start)
	s.waitPending(0)
	drained := time.Since(start)
	b.StopTimer()

	calls := emu.Calls("")
	perMethod := map[string]int{}
	limited := 0
	for _, c := range calls {
		perMethod[c.Method]++
		if c.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	posted := 0
	for _, c := range emu.Calls("chat.postMessage") {
		if c.OK() {
			posted++
		}
	}
	b.Logf("Web API calls by method: %v", perMethod)
	perGate := float64(len(calls)) / gateCount
	b.ReportMetric(perGate, "calls/gate")
	b.ReportMetric(float64(limited), "429s")
	b.ReportMetric(opened.Seconds(), "open-s")
	b.ReportMetric(drained.Seconds(), "drain-s")
	b.ReportMetric(float64(gateCount)/drained.Seconds(), "announced/s")
	require.Equal(b, gateCount, posted, "every gate announced once")
	require.LessOrEqual(b, perGate, 2.0, "Web API calls per gate")
	require.Zero(b, limited, "429 answers")
	if opened > time.Minute {
		b.Logf("opening the gates took %v, more than the minute the figure is about (a loaded machine?)", opened)
	}
}

package bot

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// harness is a bot wired to a real store and an emulated Slack.
type harness struct {
	t     testing.TB
	emu   *slackemu.Emulator
	db    *store.DB
	svc   *jobs.Service
	dir   *jobs.Directory
	alice slackemu.User
	bob   slackemu.User

	// unknownUsers is slack.unknownUsers for the bots started.
	unknownUsers people.UnknownUsers
	// botHTTP, when set before start, is the bot's file-download client.
	botHTTP *http.Client
	// grace, when set before start, is the bot's ShutdownGrace.
	grace time.Duration
	// setup, when set before start, runs on each new Bot before Run
	// (routes, commands).
	setup func(*Bot)

	mu     sync.Mutex
	bot    *Bot
	cancel context.CancelFunc
	done   chan struct{}
}

// newHarness starts an emulator, opens a store and runs a bot.
func newHarness(t testing.TB, cfg slackemu.Config) *harness {
	t.Helper()
	// bob is in no identity and these tests are about assignees, so they
	// run under slack.unknownUsers: allow (unknown_test.go covers the rest).
	return newPolicyHarness(t, cfg, people.UnknownAllow)
}

// newPolicyHarness is newHarness under a slack.unknownUsers policy.
func newPolicyHarness(t testing.TB, cfg slackemu.Config, policy people.UnknownUsers) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, policy, nil)
}

// newSetupHarness is newHarness whose bots get setup (routes, commands)
// before they run.
func newSetupHarness(t testing.TB, cfg slackemu.Config, setup func(*Bot)) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, people.UnknownAllow, setup)
}

func newHarnessWith(t testing.TB, cfg slackemu.Config, policy people.UnknownUsers, setup func(*Bot)) *harness {
	t.Helper()
	if cfg.RedeliveryDelay == 0 {
		cfg.RedeliveryDelay = 2 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 1000
	}
	emu := slackemu.NewTest(t, cfg)
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	h := &harness{t: t, emu: emu, db: db, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{}),
		dir: jobs.NewDirectory([]jobs.Identity{{Name: "alice", Email: "alice@example.com", Groups: []string{"ops"}}}), unknownUsers: policy,
		setup: setup}
	h.alice = emu.AddUser(slackemu.User{Email: "alice@example.com"})
	h.bob = emu.AddUser(slackemu.User{Email: "bob@example.com"})
	emu.AddChannel(slackemu.Channel{Name: "general", Members: []string{h.alice.ID, h.bob.ID, emu.BotUserID()}})
	h.start()
	t.Cleanup(h.stop)
	return h
}

// start runs a new Bot on the same store and waits for its connection.
func (h *harness) start() {
	h.t.Helper()
	lg := slog.New(slog.DiscardHandler)
	if os.Getenv("BOT_TEST_LOG") != "" {
		lg = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := New(Config{Service: h.svc, Directory: h.dir, AppToken: h.emu.AppToken(), BotToken: h.emu.BotToken(),
		APIURL: h.emu.APIURL(), PublicURL: "http://cla.test", Logger: lg, HTTPClient: h.botHTTP, ShutdownGrace: h.grace,
		UnknownUsers: h.unknownUsers})
	require.NoError(h.t, err)
	if h.setup != nil {
		h.setup(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	before := h.emu.TotalConnections()
	go func() {
		defer close(done)
		_ = b.Run(ctx)
	}()
	h.mu.Lock()
	h.bot, h.cancel, h.done = b, cancel, done
	h.mu.Unlock()
	h.waitFor("bot connects", func() bool { return h.emu.TotalConnections() > before && h.emu.Connections() > 0 })
}

// stop ends the running bot and waits for Run to return.
func (h *harness) stop() {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.cancel = nil
	h.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(60 * time.Second): // past the bot's own shutdown grace (10 s by default), on a loaded machine
		h.t.Errorf("bot.Run did not return after cancel")
	}
}

// ctx is a deadline for waiting on the emulator: generous, since a loaded
// 2-core machine under -race is slow, and only a failing test waits it out.
func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time
	}
}

// idle waits until Slack has every envelope acked.
func (h *harness) idle() {
	h.t.Helper()
	require.NoError(h.t, h.emu.WaitIdle(h.ctx()))
}

// job creates a job.
func (h *harness) job(id string, gate *jobs.GateConfig) *jobs.Job {
	h.t.Helper()
	j, err := h.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI,
		jobs.NewJob{ID: id, Name: "Deploy " + id, Gate: gate})
	require.NoError(h.t, err)
	return j
}

// bound creates a job and a channel with alice, bob and the bot, bound to it.
func (h *harness) bound(id string) slackemu.Channel {
	h.t.Helper()
	h.job(id, nil)
	ch := h.emu.AddChannel(slackemu.Channel{Name: "job-" + id, Members: []string{h.alice.ID, h.bob.ID, h.emu.BotUserID()}})
	_, err := h.svc.BindChannel(context.Background(), jobs.System, jobs.ViaAPI, id, jobs.Channel{ID: ch.ID, Name: ch.Name})
	require.NoError(h.t, err)
	return ch
}

// messages returns a job's mirrored entries.
func (h *harness) messages(id string) []jobs.LogEntry {
	h.t.Helper()
	var out []jobs.LogEntry
	for after := uint64(0); ; {
		page, err := h.svc.Log(context.Background(), id, after, 1000)
		require.NoError(h.t, err)
		if len(page) == 0 {
			return out
		}
		for _, e := range page {
			if e.Kind == jobs.LogMessage {
				out = append(out, e)
			}
		}
		after = page[len(page)-1].Seq
	}
}

// mention has a user mention the bot in a channel, and returns the ts.
func (h *harness) mention(user, channel, text string) string {
	h.t.Helper()
	ts, err := h.emu.Post(slackemu.HumanMessage{User: user, Channel: channel, Text: "<@" + h.emu.BotUserID() + "> " + text})
	require.NoError(h.t, err)
	return ts
}

// ephemeral waits for the n-th ephemeral answer to a user and returns it.
func (h *harness) ephemeral(user string, n int) slackemu.Ephemeral {
	h.t.Helper()
	h.waitFor("ephemeral answer", func() bool { return len(h.emu.Ephemerals(user)) >= n })
	return h.emu.Ephemerals(user)[n-1]
}

// ask mentions the bot and returns the ephemeral answer it gets.
func (h *harness) ask(user, channel, text string) string {
	h.t.Helper()
	n := len(h.emu.Ephemerals(user))
	h.mention(user, channel, text)
	return h.ephemeral(user, n+1).Text
}

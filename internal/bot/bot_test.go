package bot

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

func TestNew(t *testing.T) {
	svc := jobs.NewService(nil, jobs.NewBroker(), jobs.Options{})
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"complete", Config{Service: svc, AppToken: "xapp-1", BotToken: "xoxb-1"}, true},
		{"no service", Config{AppToken: "xapp-1", BotToken: "xoxb-1"}, false},
		{"no app token", Config{Service: svc, BotToken: "xoxb-1"}, false},
		{"no bot token", Config{Service: svc, AppToken: "xapp-1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(tc.cfg)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 16, b.cfg.Concurrency, "default concurrency")
		})
	}
}

// TestBot_RedeliveredMention handles a mention delivered twice (same
// event id, new envelope), and again after a restart: one note.
func TestBot_RedeliveredMention(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-50")
	in := func(envelope string) *Incoming {
		return &Incoming{Kind: KindMention, EnvelopeID: envelope, EventID: "Ev0DUP", User: h.alice.ID, Channel: ch.ID,
			TS: "1.000001", Text: "<@" + h.emu.BotUserID() + "> note only once"}
	}
	acks := 0
	deliver := func(envelope string) {
		h.bot.router.route(t.Context(), in(envelope), func(any) { acks++ })
		h.bot.pending.Wait()
	}
	deliver("env-1")
	deliver("env-2")
	h.stop()
	h.start()
	deliver("env-3")
	require.Equal(t, 3, acks, "every envelope is acked")
	j, err := h.svc.GetJob(t.Context(), "qa-50")
	require.NoError(t, err)
	require.Len(t, j.Annotations, 1, "handled once across redelivery and restart")
}

// TestBot_Reconnects follows Slack's refresh request and a dropped
// connection.
func TestBot_Reconnects(t *testing.T) {
	h := newHarness(t, slackemu.Config{DisconnectGrace: time.Second})
	ch := h.bound("qa-51")
	require.Equal(t, 1, h.emu.Disconnect(""))
	h.waitFor("reconnect after refresh", func() bool { return h.emu.TotalConnections() >= 2 && h.emu.Connections() == 1 })
	h.emu.KillConnections()
	h.waitFor("reconnect after a drop", func() bool { return h.emu.TotalConnections() >= 3 && h.emu.Connections() == 1 })
	_, err := h.emu.PostMessage(h.alice.ID, ch.ID, "still here")
	require.NoError(t, err)
	h.idle()
	require.Len(t, h.messages("qa-51"), 1)
}

// TestBot_RunWithDeadSlack keeps retrying while Slack fails and returns
// only when its context ends.
func TestBot_RunWithDeadSlack(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	b, err := New(Config{Service: jobs.NewService(nil, jobs.NewBroker(), jobs.Options{}), AppToken: "xapp-1", BotToken: "xoxb-1",
		APIURL: srv.URL + "/api/", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for calls.Load() < 3 {
		require.True(t, time.Now().Before(deadline), "the bot keeps retrying")
		select {
		case err := <-done:
			t.Fatalf("Run returned while its context was live: %v", err)
		case <-time.After(10 * time.Millisecond): // polling the call count
		}
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 5 * time.Second}
	var got []time.Duration
	for range 5 {
		got = append(got, b.next())
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got)
	b.reset()
	require.Equal(t, time.Second, b.next())
}

// TestBot_RateLimited waits out Slack's 429 before answering.
func TestBot_RateLimited(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.emu.InjectFault("chat.postEphemeral", slackemu.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1})
	require.Contains(t, h.ask(h.alice.ID, "#general", "help"), "Things you can ask me")
	// The emulator records a call just after it answers it: wait for the record.
	_, err := h.emu.WaitCall(h.ctx(), "chat.postEphemeral", func(c slackemu.Call) bool { return c.OK() })
	require.NoError(t, err)
	calls := h.emu.Calls("chat.postEphemeral")
	require.Len(t, calls, 2)
	require.Equal(t, http.StatusTooManyRequests, calls[0].Status)
	require.True(t, calls[1].OK())
	require.GreaterOrEqual(t, calls[1].At.Sub(calls[0].At), time.Second, "Retry-After respected")
}

package slackemu

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"
)

// testBot is the official slack-go Socket Mode client wired to an emulator.
type testBot struct {
	api    *slack.Client
	sm     *socketmode.Client
	mu     sync.Mutex
	got    []socketmode.Request
	events chan socketmode.Event
	// respond decides the ack: skip=true sends none; payload is the ack payload.
	respond func(req socketmode.Request) (payload any, skip bool)
}

// fastConfig is a Config with test-friendly timings. Its RedeliveryDelay
// is short: a test that counts deliveries or acks must set a long one (an
// ack can take longer than 150 ms under -race on a loaded machine) and
// redeliver by hand (redeliverNow) where it means to.
func fastConfig() Config {
	return Config{RedeliveryDelay: 150 * time.Millisecond, PingInterval: time.Second, DisconnectGrace: time.Second}
}

// newTestBot connects a slack-go socketmode client and acks everything
// (unless respond says otherwise); it stops when the test ends.
func newTestBot(t testing.TB, emu *Emulator, respond func(socketmode.Request) (any, bool)) *testBot {
	t.Helper()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.AppToken()))
	sm := socketmode.New(api, socketmode.OptionLog(log.New(io.Discard, "", 0)))
	b := &testBot{api: api, sm: sm, respond: respond, events: make(chan socketmode.Event, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sm.RunContext(ctx)
	}()
	go b.loop(ctx)
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b
}

// loop records requests and acks them.
func (b *testBot) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.sm.Events:
			if ev.Request == nil || ev.Request.EnvelopeID == "" {
				continue
			}
			b.mu.Lock()
			b.got = append(b.got, *ev.Request)
			b.mu.Unlock()
			select {
			case b.events <- ev:
			default:
			}
			var payload any
			skip := false
			if b.respond != nil {
				payload, skip = b.respond(*ev.Request)
			}
			if !skip {
				_ = b.sm.Ack(*ev.Request, payload)
			}
		}
	}
}

// requests returns what the client received so far.
func (b *testBot) requests() []socketmode.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]socketmode.Request(nil), b.got...)
}

// ctxT is a context bounded for one test step: generous, since a loaded
// 2-core machine under -race is slow, and only a failing test waits it out.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// workspace sets up alice (in group ops), bob, and #general with both and
// the bot.
func workspace(t *testing.T, emu *Emulator) (alice, bob User, general Channel) {
	t.Helper()
	alice = emu.AddUser(User{Name: "alice", Email: "alice@example.com", Groups: []string{"ops"}})
	bob = emu.AddUser(User{Name: "bob", Email: "bob@example.com"})
	general = emu.AddChannel(Channel{Name: "general", Members: []string{alice.ID, bob.ID, emu.BotUserID()}})
	require.NotEmpty(t, general.ID)
	return alice, bob, general
}

// innerEvent decodes an events_api envelope's inner event.
func innerEvent(t *testing.T, env Envelope) map[string]any {
	t.Helper()
	var p struct {
		Event map[string]any `json:"event"`
	}
	require.NoError(t, json.Unmarshal(env.Payload, &p))
	return p.Event
}

// eventsOf returns the inner events of every first delivery, in order.
func eventsOf(t *testing.T, emu *Emulator) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, env := range emu.Envelopes() {
		if env.Type == "events_api" && env.RetryAttempt == 0 {
			out = append(out, innerEvent(t, env))
		}
	}
	return out
}

// redeliverNow does at once what RedeliveryDelay's timer does: every event
// sent and not acked is delivered again (or given up). It returns how many
// it redelivered, so a test decides when a redelivery happens.
func redeliverNow(emu *Emulator) int {
	emu.mu.Lock()
	var due []*envelope
	for _, id := range emu.envOrder {
		v := emu.envs[id]
		d := v.d
		if v.typ == "events_api" && d.ack == nil && !d.gaveUp && d.attempts[len(d.attempts)-1] == v && !v.sentAt.IsZero() {
			v.stopTimer()
			due = append(due, v)
		}
	}
	emu.mu.Unlock()
	for _, v := range due {
		emu.retry(v)
	}
	return len(due)
}

// nextRequest waits for the next request b receives.
func (b *testBot) nextRequest(t *testing.T) socketmode.Request {
	t.Helper()
	select {
	case ev := <-b.events:
		return *ev.Request
	case <-ctxT(t).Done():
		t.Fatal("the bot received no request")
		return socketmode.Request{}
	}
}

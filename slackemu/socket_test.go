package slackemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"
)

func TestEmulator_SocketModeDelivery(t *testing.T) {
	cfg := fastConfig()
	// Not a redelivery test: a redelivery (an ack slower than 150 ms under
	// -race on a loaded machine) would be a third request.
	cfg.RedeliveryDelay = time.Minute
	emu := NewTest(t, cfg)
	bot := newTestBot(t, emu, nil)
	require.NoError(t, emu.WaitConnections(ctxT(t), 1))
	alice, _, general := workspace(t, emu)

	ts, err := emu.PostMessage(alice.ID, general.ID, "hey @cla add #general")
	require.NoError(t, err)
	require.NoError(t, emu.WaitIdle(ctxT(t)))

	var kinds []string
	for _, req := range bot.requests() {
		require.Equal(t, "events_api", req.Type)
		require.False(t, req.AcceptsResponsePayload)
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		require.NoError(t, err)
		require.Equal(t, emu.TeamID(), ev.TeamID)
		require.Equal(t, emu.AppID(), ev.APIAppID)
		kinds = append(kinds, ev.InnerEvent.Type)
		switch inner := ev.InnerEvent.Data.(type) {
		case *slackevents.MessageEvent:
			require.Equal(t, ts, inner.TimeStamp)
			require.Equal(t, "channel", inner.ChannelType)
			require.Equal(t, ts, inner.EventTimeStamp)
			require.NotEmpty(t, inner.ClientMsgID)
			require.Equal(t, "hey <@"+emu.BotUserID()+"> add <#"+general.ID+"|general>", inner.Text)
			require.Len(t, inner.Blocks.BlockSet, 1)
		case *slackevents.AppMentionEvent:
			require.Equal(t, alice.ID, inner.User)
			require.Equal(t, general.ID, inner.Channel)
		default:
			t.Fatalf("unexpected event %T", inner)
		}
	}
	require.Equal(t, []string{"message", "app_mention"}, kinds)
	for _, env := range emu.Envelopes() {
		require.NotNil(t, env.Ack, env.ID)
		require.Equal(t, env.ID, env.Ack.EnvelopeID)
		require.True(t, strings.HasPrefix(env.EventID, "Ev"))
	}
	require.Zero(t, emu.DuplicateAcks())
}

func TestEmulator_Redelivery(t *testing.T) {
	t.Run("retried with the same event id until acked", func(t *testing.T) {
		cfg := fastConfig()
		// Redelivered by hand: with a timer, an ack of the third delivery
		// slower than the delay (-race, a loaded machine) is a fourth.
		cfg.RedeliveryDelay = time.Hour
		emu := NewTest(t, cfg)
		var mu sync.Mutex
		seen := 0
		bot := newTestBot(t, emu, func(req socketmode.Request) (any, bool) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			return nil, seen < 3 // ack only the third delivery
		})
		alice, _, general := workspace(t, emu)
		_, err := emu.PostMessage(alice.ID, general.ID, "hello")
		require.NoError(t, err)
		for i := range 3 {
			require.Equal(t, i, bot.nextRequest(t).RetryAttempt)
			if i < 2 {
				require.Equal(t, 1, redeliverNow(emu), "delivery %d is unacked", i)
			}
		}
		require.NoError(t, emu.WaitIdle(ctxT(t)))
		require.Zero(t, redeliverNow(emu), "acked: nothing left to redeliver")
		envs := emu.Envelopes()
		require.Len(t, envs, 3)
		for i, env := range envs {
			require.Equal(t, i, env.RetryAttempt)
			require.Equal(t, envs[0].EventID, env.EventID)
			var frame map[string]any
			require.NoError(t, json.Unmarshal(env.Payload, &frame))
			require.Equal(t, envs[0].EventID, frame["event_id"])
		}
		require.NotEqual(t, envs[0].ID, envs[1].ID)
		require.Equal(t, envs[2].ID, envs[2].Ack.EnvelopeID)
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		cfg := fastConfig()
		cfg.RedeliveryDelay = 20 * time.Millisecond
		emu := NewTest(t, cfg)
		bot := newTestBot(t, emu, func(socketmode.Request) (any, bool) { return nil, true })
		alice, _, general := workspace(t, emu)
		_, err := emu.PostMessage(alice.ID, general.ID, "hello")
		require.NoError(t, err)
		require.NoError(t, emu.WaitIdle(ctxT(t)))
		envs := emu.Envelopes()
		require.Len(t, envs, 4)
		require.True(t, envs[3].GaveUp)
		require.Nil(t, envs[3].Ack)
		require.Eventually(t, func() bool { return len(bot.requests()) == 4 }, 30*time.Second, 5*time.Millisecond)
		require.Equal(t, 3, bot.requests()[3].RetryAttempt)
		require.Equal(t, "timeout", bot.requests()[3].RetryReason)
	})
}

func TestEmulator_Disconnect(t *testing.T) {
	emu := NewTest(t, fastConfig())
	newTestBot(t, emu, nil)
	require.NoError(t, emu.WaitConnections(ctxT(t), 1))

	require.Equal(t, 1, emu.Disconnect(""))
	require.NoError(t, emu.waitFor(ctxT(t), func() bool { return e2(emu) }))
	alice, _, general := workspace(t, emu)
	_, err := emu.PostMessage(alice.ID, general.ID, "after refresh")
	require.NoError(t, err)
	require.NoError(t, emu.WaitIdle(ctxT(t)))
	require.Equal(t, 2, emu.Envelopes()[0].Connection)

	require.Equal(t, 1, emu.KillConnections())
	require.NoError(t, emu.waitFor(ctxT(t), func() bool { return emu.connSeq >= 3 && emu.liveConnsLocked() == 1 }))
	require.Equal(t, 3, emu.TotalConnections())
}

// e2 reports (under e.mu) that a second connection is live.
func e2(emu *Emulator) bool { return emu.connSeq >= 2 && emu.liveConnsLocked() == 1 }

func TestEmulator_TwoConnections(t *testing.T) {
	cfg := fastConfig()
	// Not a redelivery test: under -race on a loaded machine an ack can
	// take longer than fastConfig's 150 ms, and a redelivery (a new
	// envelope id) would be counted as an eleventh envelope.
	cfg.RedeliveryDelay = time.Minute
	emu := NewTest(t, cfg)
	b1 := newTestBot(t, emu, nil)
	require.NoError(t, emu.WaitConnections(ctxT(t), 1))
	b2 := newTestBot(t, emu, nil)
	require.NoError(t, emu.WaitConnections(ctxT(t), 2))
	alice, _, general := workspace(t, emu)
	for range 10 {
		_, err := emu.PostMessage(alice.ID, general.ID, "ping")
		require.NoError(t, err)
	}
	require.NoError(t, emu.WaitIdle(ctxT(t)))
	ids := map[string]int{}
	for _, r := range append(b1.requests(), b2.requests()...) {
		ids[r.EnvelopeID]++
	}
	require.Len(t, ids, 10)
	for id, n := range ids {
		require.Equal(t, 1, n, id)
	}
	require.Len(t, b1.requests(), 5)
	require.Len(t, b2.requests(), 5)
}

func TestEmulator_HelloAndPing(t *testing.T) {
	cfg := fastConfig()
	cfg.PingInterval = 20 * time.Millisecond
	emu := NewTest(t, cfg)
	api := slack.New("", slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.AppToken()))
	_, url, err := api.StartSocketModeContext(ctxT(t))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(url, "ws://127.0.0.1:"))

	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	defer ws.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	pinged := make(chan struct{}, 1)
	ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	var hello map[string]any
	require.NoError(t, ws.ReadJSON(&hello))
	require.Equal(t, "hello", hello["type"])
	require.EqualValues(t, 1, hello["num_connections"])
	require.Equal(t, emu.AppID(), hello["connection_info"].(map[string]any)["app_id"])
	require.NotEmpty(t, hello["debug_info"].(map[string]any)["host"])
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	select {
	case <-pinged:
	case <-ctxT(t).Done():
		t.Fatal("no ping frame")
	}

	t.Run("ticket is single use", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(url, nil)
		require.Error(t, err)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("bot token cannot open connections", func(t *testing.T) {
		bot := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.BotToken()))
		_, _, err := bot.StartSocketModeContext(ctxT(t))
		require.EqualError(t, err, "not_allowed_token_type")
	})
}

package ratelimit

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// fakeClock is a settable clock for the budget.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func TestBudget_Reserve(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	b := NewBudget(Limits{Method: map[string]Limit{"chat.update": {PerMinute: 60, Burst: 2}},
		Channel: map[string]Limit{"chat.postMessage": {PerMinute: 60, Burst: 1}}})
	b.now = clk.Now
	cases := []struct {
		method, channel string
		want            time.Duration
	}{
		{"chat.update", "", 0},
		{"chat.update", "", 0},
		{"chat.update", "", time.Second},        // burst spent: queued behind the refill
		{"chat.update", "", 2 * time.Second},    // and the next one behind it
		{"chat.postMessage", "C1", 0},           // channels are separate buckets
		{"chat.postMessage", "C2", 0},           //
		{"chat.postMessage", "C1", time.Second}, //
		{"auth.test", "", 0},                    // unlisted methods are not paced
		{"chat.postMessage", "", 0},             // no channel, no channel bucket
	}
	for i, tc := range cases {
		got, _ := b.reserve(tc.method, tc.channel)
		require.InDelta(t, tc.want, got, float64(time.Millisecond), "row %d: %s %s", i, tc.method, tc.channel)
	}
}

func TestBudget_WaitGivesBackOnCancel(t *testing.T) {
	b := NewBudget(Limits{Method: map[string]Limit{"m": {PerMinute: 1, Burst: 1}}})
	// A still clock: with the real one, the bucket refills between the two
	// calls (0.01 token in 0.6 s, a stall -race on a loaded machine can take).
	b.now = (&fakeClock{now: time.Unix(1000, 0)}).Now
	require.NoError(t, b.Wait(t.Context(), "m", ""))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, b.Wait(ctx, "m", ""), context.Canceled)
	b.mu.Lock()
	tokens := b.buckets["m"].tokens
	b.mu.Unlock()
	require.InDelta(t, 0, tokens, 0.01, "the cancelled reservation was given back")
	var nilBudget *Budget
	require.NoError(t, nilBudget.Wait(t.Context(), "m", ""), "a nil budget paces nothing")
}

// TestSlackTiers_MatchEmulator: the bot paces to the same tiers the
// emulator enforces.
func TestSlackTiers_MatchEmulator(t *testing.T) {
	ours, emu := SlackTiers(), slackemu.SlackTiers()
	require.Equal(t, len(emu.Method), len(ours.Method))
	for m, l := range emu.Method {
		require.Equal(t, Limit{PerMinute: l.PerMinute, Burst: l.Burst}, ours.Method[m], m)
	}
	for m, l := range emu.Channel {
		require.Equal(t, Limit{PerMinute: l.PerMinute, Burst: l.Burst}, ours.Channel[m], m)
	}
}

// TestWithHeadroom: every burst above one is one call smaller, the rates
// and the input are unchanged.
func TestWithHeadroom(t *testing.T) {
	in := Limits{Method: map[string]Limit{"a": {PerMinute: 50, Burst: 50}, "one": {PerMinute: 1, Burst: 1}},
		Channel: map[string]Limit{"chat.postMessage": {PerMinute: 60, Burst: 3}}}
	out := WithHeadroom(in)
	require.Equal(t, Limit{PerMinute: 50, Burst: 49}, out.Method["a"])
	require.Equal(t, Limit{PerMinute: 1, Burst: 1}, out.Method["one"], "a burst of one stays one")
	require.Equal(t, Limit{PerMinute: 60, Burst: 2}, out.Channel["chat.postMessage"])
	require.Equal(t, Limit{PerMinute: 50, Burst: 50}, in.Method["a"], "the input is not changed")
}

// TestTransport_BurstQueuesInsteadOf429: a burst of posts into one channel,
// against the emulator enforcing Slack's tiers, is paced and draws no 429.
func TestTransport_BurstQueuesInsteadOf429(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds of pacing")
	}
	emu := slackemu.NewTest(t, slackemu.Config{RateLimits: slackemu.SlackTiers()})
	ch := emu.AddChannel(slackemu.Channel{Name: "burst", Members: []string{emu.BotUserID()}})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()),
		// Paced as the bot is (bot.New): bare SlackTiers() paces at exactly
		// the emulator's limit, and a first call slowed on its way (a fresh
		// connection under -race on a loaded machine) let a later one
		// arrive early and draw a 429.
		slack.OptionHTTPClient(NewClient(NewBudget(WithHeadroom(SlackTiers())), tr)))
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, _, err := api.PostMessageContext(t.Context(), ch.ID, slack.MsgOptionText("burst "+strings.Repeat("x", i), false))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	calls := emu.Calls("chat.postMessage")
	require.Len(t, calls, n)
	for _, c := range calls {
		require.Equal(t, http.StatusOK, c.Status, "no 429")
	}
	// Without the budget the same burst is refused by the emulator.
	raw := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
	var limited int
	for range n {
		if _, _, err := raw.PostMessageContext(t.Context(), ch.ID, slack.MsgOptionText("raw", false)); err != nil {
			var rl *slack.RateLimitedError
			require.ErrorAs(t, err, &rl)
			limited++
		}
	}
	require.Positive(t, limited, "the emulator enforces the tier")
}

func TestChannelOf(t *testing.T) {
	form := url.Values{"channel": {"C1"}, "text": {"hi"}}.Encode()
	req, _ := http.NewRequest("POST", "http://x/api/chat.postMessage", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, "C1", channelOf(req))
	buf := make([]byte, len(form))
	n, _ := req.Body.Read(buf)
	require.Equal(t, form, string(buf[:n]), "the body is put back")

	req, _ = http.NewRequest("POST", "http://x/api/chat.postMessage", strings.NewReader(`{"channel":"C2"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	require.Equal(t, "C2", channelOf(req))
	req, _ = http.NewRequest("GET", "http://x/api/chat.postMessage?channel=C3", nil)
	require.Equal(t, "C3", channelOf(req))
}

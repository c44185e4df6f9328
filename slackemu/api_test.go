package slackemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// client is slack-go's Web API client pointed at emu with the bot token.
func client(emu *Emulator) *slack.Client {
	return slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()))
}

// rawCall posts a JSON body with a bearer token and decodes the answer.
func rawCall(t *testing.T, emu *Emulator, method, token string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, emu.APIURL()+method, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func TestEmulator_Auth(t *testing.T) {
	emu := NewTest(t, fastConfig())
	cases := []struct {
		name, token, want string
	}{
		{"missing", "", "not_authed"},
		{"wrong", "xoxb-nope", "invalid_auth"},
		{"app token on a bot method", emu.AppToken(), "not_allowed_token_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := rawCall(t, emu, "auth.test", tc.token, map[string]any{})
			require.Equal(t, false, out["ok"])
			require.Equal(t, tc.want, out["error"])
		})
	}
	t.Run("token form field", func(t *testing.T) {
		resp, err := http.PostForm(emu.APIURL()+"auth.test", url.Values{"token": {emu.BotToken()}})
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Equal(t, true, out["ok"])
		require.Equal(t, emu.BotUserID(), out["user_id"])
	})
	t.Run("slack-go auth.test", func(t *testing.T) {
		res, err := client(emu).AuthTest()
		require.NoError(t, err)
		require.Equal(t, emu.BotID(), res.BotID)
		require.Equal(t, emu.TeamID(), res.TeamID)
	})
	t.Run("unknown method", func(t *testing.T) {
		out := rawCall(t, emu, "chat.nope", emu.BotToken(), map[string]any{})
		require.Equal(t, "unknown_method", out["error"])
	})
}

func TestEmulator_ChatPostMessage(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, _, general := workspace(t, emu)
	outside := emu.AddChannel(Channel{Name: "outside", Members: []string{alice.ID}})
	secret := emu.AddChannel(Channel{Name: "secret", Private: true, Members: []string{alice.ID}})
	api := client(emu)

	ch, ts, err := api.PostMessage(general.ID, slack.MsgOptionText("deploying", false))
	require.NoError(t, err)
	require.Equal(t, general.ID, ch)
	require.Regexp(t, `^\d{10}\.\d{6}$`, ts)
	_, ts2, err := api.PostMessage(general.ID, slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts))
	require.NoError(t, err)
	require.Greater(t, ts2, ts)

	msgs := emu.Messages(general.ID)
	require.Len(t, msgs, 2)
	require.True(t, msgs[0].IsBot())
	require.Equal(t, ts, msgs[1].ThreadTS)

	evs := eventsOf(t, emu)
	require.Len(t, evs, 2)
	require.Equal(t, emu.BotID(), evs[0]["bot_id"])
	require.Equal(t, emu.BotUserID(), evs[0]["user"])
	require.Equal(t, emu.BotID(), evs[0]["bot_profile"].(map[string]any)["id"])
	require.Equal(t, ts, evs[1]["thread_ts"])

	cases := []struct {
		name, channel string
		opts          []slack.MsgOption
		want          string
	}{
		{"bot not in channel", outside.ID, []slack.MsgOption{slack.MsgOptionText("x", false)}, "not_in_channel"},
		{"private channel not visible", secret.ID, []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"no such channel", "C404", []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"no text", general.ID, nil, "no_text"},
		{"blank text", general.ID, []slack.MsgOption{slack.MsgOptionText(" \n\t", false)}, "no_text"},
		{"text too long", general.ID, []slack.MsgOption{slack.MsgOptionText(strings.Repeat("a", 40001), false)}, "msg_too_long"},
		{"text too long in runes", general.ID, []slack.MsgOption{slack.MsgOptionText(strings.Repeat("é", 40001), false)}, "msg_too_long"},
		{"unknown thread", general.ID, []slack.MsgOption{slack.MsgOptionText("x", false), slack.MsgOptionTS("1.000001")}, "thread_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := api.PostMessage(tc.channel, tc.opts...)
			require.EqualError(t, err, tc.want)
		})
	}
	require.Len(t, emu.Messages(general.ID), 2, "refused posts leave no message")
	t.Run("text at the limit", func(t *testing.T) {
		before := len(emu.Messages(general.ID))
		_, _, err := api.PostMessage(general.ID, slack.MsgOptionText(strings.Repeat("é", 40000), false))
		require.NoError(t, err, "the limit counts characters, not bytes")
		require.Len(t, emu.Messages(general.ID), before+1)
	})
	t.Run("dm by user id", func(t *testing.T) {
		ch, _, err := api.PostMessage(alice.ID, slack.MsgOptionText("psst", false))
		require.NoError(t, err)
		require.Equal(t, emu.DMChannel(alice.ID), ch)
	})
	t.Run("json body", func(t *testing.T) {
		out := rawCall(t, emu, "chat.postMessage", emu.BotToken(), map[string]any{
			"channel": general.ID, "text": "json", "blocks": []any{map[string]any{"type": "divider"}}})
		require.Equal(t, true, out["ok"], out)
		c := emu.Calls("chat.postMessage")
		require.Equal(t, "json", c[len(c)-1].Arg("text"))
		require.JSONEq(t, `[{"type":"divider"}]`, c[len(c)-1].Arg("blocks"))
	})
}

func TestEmulator_ChatUpdateDeleteEphemeral(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, bob, general := workspace(t, emu)
	api := client(emu)
	_, ts, err := api.PostMessage(general.ID, slack.MsgOptionText("v1", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "v1", false, false), nil, nil)))
	require.NoError(t, err)

	_, _, _, err = api.UpdateMessage(general.ID, ts, slack.MsgOptionText("v2", false))
	require.NoError(t, err)
	m, ok := emu.Message(general.ID, ts)
	require.True(t, ok)
	require.Equal(t, "v2", m.Text)
	require.Contains(t, string(m.Blocks), "v1", "blocks are kept when not given")
	require.NotEmpty(t, m.EditedTS)

	human, err := emu.PostMessage(alice.ID, general.ID, "mine")
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessage(general.ID, human, slack.MsgOptionText("hijack", false))
	require.EqualError(t, err, "cant_update_message")
	_, _, err = api.DeleteMessage(general.ID, human)
	require.EqualError(t, err, "cant_delete_message")
	_, _, _, err = api.UpdateMessage(general.ID, "1.000001", slack.MsgOptionText("x", false))
	require.EqualError(t, err, "message_not_found")

	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: general.ID, Ts: ts})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link, emu.URL()+"/archives/"+general.ID+"/p"))

	_, err = api.PostEphemeral(general.ID, bob.ID, slack.MsgOptionText("only you", false))
	require.NoError(t, err)
	require.Len(t, emu.Ephemerals(bob.ID), 1)
	outsider := emu.AddUser(User{Name: "carol"})
	_, err = api.PostEphemeral(general.ID, outsider.ID, slack.MsgOptionText("x", false))
	require.EqualError(t, err, "user_not_in_channel")

	_, _, err = api.DeleteMessage(general.ID, ts)
	require.NoError(t, err)
	_, ok = emu.Message(general.ID, ts)
	require.True(t, ok)
	require.Len(t, emu.Messages(general.ID), 1)

	var subtypes []string
	for _, ev := range eventsOf(t, emu) {
		if s, ok := ev["subtype"].(string); ok {
			subtypes = append(subtypes, s)
		}
	}
	require.Equal(t, []string{"message_changed", "message_deleted"}, subtypes)
}

func TestEmulator_Faults(t *testing.T) {
	emu := NewTest(t, fastConfig())
	_, _, general := workspace(t, emu)
	api := client(emu)

	emu.InjectFault("chat.postMessage", Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 1})
	_, _, err := api.PostMessage(general.ID, slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	require.ErrorAs(t, err, &rl)
	require.Equal(t, 2*time.Second, rl.RetryAfter)
	_, _, err = api.PostMessage(general.ID, slack.MsgOptionText("x", false))
	require.NoError(t, err, "Times: 1 is consumed")

	emu.InjectFault("*", Fault{Status: http.StatusServiceUnavailable, Times: 1})
	_, err = api.AuthTest()
	var sc slack.StatusCodeError
	require.ErrorAs(t, err, &sc)
	require.Equal(t, http.StatusServiceUnavailable, sc.Code)

	emu.InjectFault("auth.test", Fault{Error: "fatal_error", Times: 1})
	_, err = api.AuthTest()
	require.EqualError(t, err, "fatal_error")

	applied := make(chan string, 1)
	emu.InjectFault("auth.test", Fault{Latency: time.Hour, Times: 1, Applied: applied})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	answered := make(chan error, 1)
	go func() { _, err := api.AuthTestContext(ctx); answered <- err }()
	require.Equal(t, "auth.test", <-applied, "told while the call waits out its latency")
	select {
	case err := <-answered:
		t.Fatalf("answered before its latency: %v", err)
	default:
	}
	cancel() // the request's own cancellation cuts the latency short
	require.True(t, errors.Is(<-answered, context.Canceled))

	calls := emu.Calls("chat.postMessage")
	require.Len(t, calls, 2)
	require.Equal(t, http.StatusTooManyRequests, calls[0].Status)
	require.True(t, calls[1].OK())
}

func TestEmulator_Scopes(t *testing.T) {
	cfg := fastConfig()
	cfg.Scopes = []string{"chat:write", "users:read"}
	emu := NewTest(t, cfg)
	alice := emu.AddUser(User{Name: "alice", Email: "alice@example.com"})
	api := client(emu)

	_, err := api.GetUserByEmail("alice@example.com")
	require.EqualError(t, err, "missing_scope")
	out := rawCall(t, emu, "users.lookupByEmail", emu.BotToken(), map[string]any{"email": "alice@example.com"})
	require.Equal(t, "users:read.email", out["needed"])
	require.Equal(t, "chat:write,users:read", out["provided"])

	u, err := api.GetUserInfo(alice.ID)
	require.NoError(t, err)
	require.Empty(t, u.Profile.Email, "email needs users:read.email")
}

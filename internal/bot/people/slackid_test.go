package people

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

func TestResolver_SlackID(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name    string
		who     string
		want    string
		lookups int // users.lookupByEmail calls this case adds
	}{
		{name: "bare id", who: "U0ABC", want: "U0ABC"},
		{name: "mention form", who: " @U0ABC ", want: "U0ABC"},
		{name: "grid id", who: "W0ABC", want: "W0ABC"},
		{name: "slack: form", who: "slack:U0ABC", want: "U0ABC"},
		{name: "identity with a slack id", who: "alice", want: f.alice.ID},
		{name: "identity by email", who: "erin", want: f.erin.ID, lookups: 1},
		{name: "its email, any case, is cached", who: "ERIN@example.com", want: f.erin.ID},
		{name: "plain email", who: "dave@example.com", want: f.dave.ID, lookups: 1},
		{name: "identity whose email slack does not know", who: "frank", want: "", lookups: 1},
		{name: "the miss is cached", who: "frank@example.com", want: ""},
		{name: "identity without email or slack id", who: "gina", want: ""},
		{name: "group", who: "ops", want: ""},
		{name: "group handle", who: "@sre", want: ""},
		{name: "lower-case id-like name", who: "u0abc", want: ""},
		{name: "empty", who: "", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.calls("users.lookupByEmail")
			require.Equal(t, tc.want, f.r.SlackID(t.Context(), tc.who))
			require.Equal(t, before+tc.lookups, f.calls("users.lookupByEmail"))
		})
	}
}

func TestResolver_SlackID_UsersInfoFillsTheCache(t *testing.T) {
	f := newFixture(t)
	_, err := f.r.Identity(t.Context(), f.dave.ID)
	require.NoError(t, err)
	require.Equal(t, f.dave.ID, f.r.SlackID(t.Context(), "dave@example.com"))
	require.Zero(t, f.calls("users.lookupByEmail"), "users.info already told who has the email")
}

func TestResolver_SlackID_SlackFails(t *testing.T) {
	t.Run("an error is not cached", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("users.lookupByEmail", slackemu.Fault{Error: "fatal_error", Times: 1})
		require.Empty(t, f.r.SlackID(t.Context(), "dave@example.com"))
		require.Equal(t, f.dave.ID, f.r.SlackID(t.Context(), "dave@example.com"))
		require.Equal(t, 2, f.calls("users.lookupByEmail"))
	})
	t.Run("429 is waited out", func(t *testing.T) {
		f := newFixture(t)
		f.emu.InjectFault("users.lookupByEmail", slackemu.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
		require.Equal(t, f.dave.ID, f.r.SlackID(t.Context(), "dave@example.com"))
		require.Equal(t, 2, f.calls("users.lookupByEmail"))
	})
	t.Run("a miss expires", func(t *testing.T) {
		f := newFixture(t)
		require.Empty(t, f.r.SlackID(t.Context(), "frank@example.com"))
		frank := f.emu.AddUser(slackemu.User{Email: "frank@example.com"})
		require.Empty(t, f.r.SlackID(t.Context(), "frank"), "cached miss")
		f.advance(identityTTL)
		require.Equal(t, frank.ID, f.r.SlackID(t.Context(), "frank"))
	})
}

func TestResolver_SlackIDs(t *testing.T) {
	f := newFixture(t)
	got := f.r.SlackIDs(t.Context(), []string{"alice", "ops", "erin", "erin", "slack:U0X", "nobody@example.com"})
	require.Equal(t, map[string]string{"alice": f.alice.ID, "erin": f.erin.ID, "slack:U0X": "U0X"}, got)
	require.Equal(t, 2, f.calls("users.lookupByEmail"), "a repeated name is resolved once")
	require.Empty(t, f.r.SlackIDs(t.Context(), nil))
}

func TestResolver_ChannelName(t *testing.T) {
	f := newFixture(t)
	ch := f.emu.AddChannel(slackemu.Channel{Name: "job-qa-1"})
	require.Equal(t, "job-qa-1", f.r.ChannelName(t.Context(), ch.ID))
	require.Equal(t, "job-qa-1", f.r.ChannelName(t.Context(), ch.ID))
	require.Equal(t, 1, f.calls("conversations.info"), "cached")
	require.Empty(t, f.r.ChannelName(t.Context(), "C0NONE"))
	require.Empty(t, f.r.ChannelName(t.Context(), "C0NONE"))
	require.Equal(t, 3, f.calls("conversations.info"), "an unknown channel is not cached")
	f.advance(identityTTL)
	require.Equal(t, "job-qa-1", f.r.ChannelName(t.Context(), ch.ID))
	require.Equal(t, 4, f.calls("conversations.info"), "asked again after the TTL")
}

package slacktext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type names map[string]string

func (n names) UserName(id string) string    { return n[id] }
func (n names) ChannelName(id string) string { return n[id] }

func TestDecode(t *testing.T) {
	dir := names{"U0BOB": "bob", "C0OPS": "ops"}
	cases := []struct{ name, raw, want string }{
		{"issue example", "restart &lt;api&gt; &amp; check with <@U0BOB>", "restart <api> & check with @bob"},
		{"plain", "hello", "hello"},
		{"one pass", "&amp;lt;b&amp;gt;", "&lt;b&gt;"},
		{"unknown user keeps id", "ping <@U0NOBODY>", "ping @U0NOBODY"},
		{"user with label", "<@U0BOB|robert>", "@robert"},
		{"channel with name", "see <#C0XYZ|deploys>", "see #deploys"},
		{"channel without name", "see <#C0OPS>", "see #ops"},
		{"link with label", "<https://x.example/a?b=1&amp;c=2|the runbook>", "the runbook (https://x.example/a?b=1&c=2)"},
		{"bare link", "<https://x.example>", "https://x.example"},
		{"auto-linked domain", "<http://x.example|x.example>", "x.example"},
		{"mail", "<mailto:bob@x.example|bob@x.example>", "bob@x.example"},
		{"here", "<!here> deploy", "@here deploy"},
		{"group", "<!subteam^S01|@ops>", "@ops"},
		{"group no label", "<!subteam^S01>", "@S01"},
		{"date", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"escaped label", "<https://x.example|a &amp; b>", "a & b (https://x.example)"},
		{"lone angle", "a &lt; b", "a < b"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Decode(tc.raw, dir))
		})
	}
	require.Equal(t, "@U0BOB", Decode("<@U0BOB>", nil), "nil Names keeps ids")
}

func TestEscape_RoundTrip(t *testing.T) {
	for _, s := range []string{"restart <api> & check", "<@U0BOB> <!here>", "&amp; already", "*bold* _it_", ""} {
		enc := Escape(s)
		require.NotContains(t, enc, "<")
		require.NotContains(t, enc, ">")
		require.Equal(t, s, Decode(enc, nil), "decode(escape(s)) is s")
	}
}

func TestLink(t *testing.T) {
	require.Equal(t, "<https://x.example/a?b=1&amp;c=2|Review in GitLab>", Link("https://x.example/a?b=1&c=2", "Review in GitLab"))
	require.Equal(t, "<https://x.example/%7C>", Link("https://x.example/|", ""))
	require.Equal(t, "<https://x.example|a ¦ b &lt;c&gt;>", Link("https://x.example", "a | b <c>"))
	require.Equal(t, "a ¦ b <c> (https://x.example)", Decode(Link("https://x.example", "a | b <c>"), nil))
}

func TestMentionedUsers(t *testing.T) {
	require.Equal(t, []string{"U1", "U2"}, MentionedUsers("<@U1> and <@U2|b> and <@U1> <#C1|x> <!here>"))
	require.Empty(t, MentionedUsers("no one"))
}

func FuzzDecode(f *testing.F) {
	f.Add("restart &lt;api&gt; &amp; check with <@U0BOB>")
	f.Add("<<@U1>|>")
	f.Fuzz(func(t *testing.T, s string) {
		_ = Decode(s, nil)
		if got := Decode(Escape(s), nil); got != s {
			t.Fatalf("Decode(Escape(%q)) = %q", s, got)
		}
	})
}

func TestEscapeValue(t *testing.T) {
	cases := []struct{ name, before, value, want string }{
		{"plain text", "Fix ", "<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;"},
		{"after a closed token", "<https://x|y> ", "<!here>", "&lt;!here&gt;"},
		{"link target", "see <", "https://evil|https://sso.corp> <!channel", "https://evil%7Chttps://sso.corp%3E%20%3C!channel"},
		{"link target, &", "<https://x/?", "a=1&b=2", "a=1&amp;b=2"},
		{"token start: broadcast", "<", "!channel", "%21channel"},
		{"token start: mention", "<", "@U0ALICE", "%40U0ALICE"},
		{"token start: channel", "<", "#C1", "%23C1"},
		{"mid-target sigil kept", "<@", "U0ALICE", "U0ALICE"},
		{"label", "<https://x|", "a | b <c>", "a | b &lt;c&gt;"},
		{"empty", "<", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := EscapeValue(tc.before, tc.value)
			require.Equal(t, tc.want, got)
			require.Empty(t, Broadcasts(tc.before+got+">"), "no broadcast, whatever follows")
		})
	}
}

func TestBroadcasts(t *testing.T) {
	require.Equal(t, []string{"<!channel>", "<!here|here>", "<!everyone>", "<!Channel>"},
		Broadcasts("<!channel> <!here|here> x <!everyone> <!Channel> <!subteam^S1|@ops> <@U1> <!date^1^{date}|d> &lt;!here&gt;"))
	require.Empty(t, Broadcasts("no one"))
	require.NoError(t, Markup{}.Check("hi <@U1> <!subteam^S1>"))
	err := Markup{}.Check("ping <!here>")
	require.ErrorContains(t, err, "<!here> would notify everyone")
	require.ErrorContains(t, err, "slack.allowBroadcastMentions")
	require.NoError(t, Markup{AllowBroadcasts: true}.Check("ping <!here>"))
}

func FuzzEscapeValue(f *testing.F) {
	f.Add("see <", "!channel")
	f.Add("", "<!here>")
	f.Add("<https://x|", "<@U1>")
	f.Fuzz(func(t *testing.T, before, value string) {
		before = Escape(before) + "<" // a template's literal text opening a token
		got := EscapeValue(before, value)
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("EscapeValue(%q, %q) = %q keeps < or >", before, value, got)
		}
		if b := Broadcasts(before + got + ">"); len(b) > 0 {
			t.Fatalf("value %q formed %v", value, b)
		}
	})
}

package bot

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

const testBot = "U0EMUBOT01"

func TestParseMention(t *testing.T) {
	cases := []struct {
		name, text string
		want       Command
		err        error
	}{
		{name: "bare mention", text: "<@U0EMUBOT01>", want: Command{}},
		{name: "help", text: "<@U0EMUBOT01> help", want: Command{Name: "help"}},
		{name: "verb is lower-cased", text: "<@U0EMUBOT01> HeLp", want: Command{Name: "help"}},
		{name: "extra spaces and colon", text: "  <@U0EMUBOT01>:   add    #job-qa-1  ",
			want: Command{Name: "add", Args: []Arg{{Text: "#job-qa-1"}}, Text: "#job-qa-1"}},
		{name: "channel with name", text: "<@U0EMUBOT01> add <#C0123|job-qa-1>",
			want: Command{Name: "add", Args: []Arg{{Text: "#job-qa-1", Channel: "C0123"}}, Text: "#job-qa-1"}},
		{name: "channel without name", text: "<@U0EMUBOT01> add <#C0123>",
			want: Command{Name: "add", Args: []Arg{{Text: "#C0123", Channel: "C0123"}}, Text: "#C0123"}},
		{name: "mention with label", text: "<@U0EMUBOT01|cla> status",
			want: Command{Name: "status"}},
		{name: "other mention first", text: "<@U0ALICE> and <@U0EMUBOT01> note hi <@U0ALICE>",
			want: Command{Name: "note", Args: []Arg{{Text: "hi"}, {Text: "@U0ALICE", User: "U0ALICE"}}, Text: "hi @U0ALICE"}},
		{name: "quotes", text: `<@U0EMUBOT01> run restart service="api gw" 'x y' “smart q”`,
			want: Command{Name: "run", Args: []Arg{{Text: "restart"}, {Text: `service="api`}, {Text: `gw"`}, {Text: "x y"}, {Text: "smart q"}},
				Text: `restart service="api gw" 'x y' “smart q”`}},
		{name: "quoted word", text: `<@U0EMUBOT01> approve "looks good"`,
			want: Command{Name: "approve", Args: []Arg{{Text: "looks good"}}, Text: `"looks good"`}},
		{name: "unterminated quote runs to the end", text: `<@U0EMUBOT01> note "half open`,
			want: Command{Name: "note", Args: []Arg{{Text: "half open"}}, Text: `"half open`}},
		{name: "apostrophe inside a word", text: "<@U0EMUBOT01> note don't deploy",
			want: Command{Name: "note", Args: []Arg{{Text: "don't"}, {Text: "deploy"}}, Text: "don't deploy"}},
		{name: "entities and links", text: "<@U0EMUBOT01> note a &amp; b &lt;3 <https://x.example/p|x.example> <!subteam^S1|@ops> <!here>",
			want: Command{Name: "note", Args: []Arg{{Text: "a"}, {Text: "&"}, {Text: "b"}, {Text: "<3"}, {Text: "https://x.example/p"},
				{Text: "@ops"}, {Text: "@here"}}, Text: "a & b <3 https://x.example/p @ops @here"}},
		{name: "newlines and tabs", text: "<@U0EMUBOT01>\tnote\nline one\nline two",
			want: Command{Name: "note", Args: []Arg{{Text: "line"}, {Text: "one"}, {Text: "line"}, {Text: "two"}}, Text: "line one\nline two"}},
		{name: "non-breaking space", text: "<@U0EMUBOT01>\u00a0status\u00a0qa-1",
			want: Command{Name: "status", Args: []Arg{{Text: "qa-1"}}, Text: "qa-1"}},
		{name: "not mentioned", text: "add #job-qa-1", err: ErrNotMentioned},
		{name: "someone else mentioned", text: "<@U0ALICE> help", err: ErrNotMentioned},
		{name: "unclosed mention", text: "<@U0EMUBOT01 help", err: ErrNotMentioned},
		{name: "empty", text: "", err: ErrNotMentioned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMention(tc.text, testBot)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseMention_AnyBot(t *testing.T) {
	got, err := ParseMention("<@U0OTHER> status", "")
	require.NoError(t, err)
	require.Equal(t, "status", got.Name)
}

func TestArg_ChannelName(t *testing.T) {
	cases := []struct {
		arg  Arg
		name string
		ok   bool
	}{
		{Arg{Text: "#job-x"}, "job-x", true},
		{Arg{Text: "#job-x", Channel: "C1"}, "job-x", true},
		{Arg{Text: "#C1", Channel: "C1"}, "", true},
		{Arg{Text: "qa-1"}, "", false},
		{Arg{Text: "@U1", User: "U1"}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.arg.Text, func(t *testing.T) {
			name, ok := tc.arg.ChannelName()
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.name, name)
		})
	}
}

func FuzzParseMention(f *testing.F) {
	for _, s := range []string{"<@U0EMUBOT01> add <#C1|job-x>", `<@U0EMUBOT01> run a k="v w"`, "<@U0EMUBOT01>", "x <@U0EMUBOT01|cla>: note &amp;<>",
		"<@U0EMUBOT01> “", "<@U0EMUBOT01> <#C1|", "<@U0EMUBOT01> <<>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := ParseMention(text, testBot)
		if err != nil {
			require.ErrorIs(t, err, ErrNotMentioned)
			require.NotContains(t, text, "<@"+testBot+">")
			return
		}
		require.Equal(t, strings.ToLower(cmd.Name), cmd.Name)
		require.Equal(t, strings.TrimSpace(cmd.Text), cmd.Text)
		if rest, _ := afterMention(text, testBot); strings.TrimSpace(rest) == "" {
			require.Equal(t, Command{}, cmd)
		}
		if utf8.ValidString(text) {
			require.True(t, utf8.ValidString(cmd.Text), "text stays valid UTF-8")
		}
		for _, a := range cmd.Args {
			require.NotEmpty(t, a.Text+a.Channel+a.User+"x")
			if a.Channel != "" {
				_, ok := a.ChannelName()
				require.True(t, ok)
			}
		}
		// Parsing what follows the verb again gives the same words.
		if cmd.Name != "" && !strings.ContainsAny(cmd.Name, "<>\"'“‘&:, \t\n\r\v\f") && !strings.ContainsFunc(cmd.Name, unicode.IsSpace) {
			again, err := ParseMention("<@"+testBot+"> "+cmd.Name+" x", testBot)
			require.NoError(t, err)
			require.Equal(t, cmd.Name, again.Name)
		}
	})
}

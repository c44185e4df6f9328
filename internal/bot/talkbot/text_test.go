package talkbot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"restart service=api", "restart service=api"},
		{"probe msg=&lt;b&gt; &amp;&amp; x", "probe msg=<b> && x"},
		{"probe msg=&amp;lt;", "probe msg=&lt;"},
		{"probe url=<http://x.io|x.io>", "probe url=x.io"},
		{"probe url=<https://x.io/a?b=1&amp;c=2>", "probe url=https://x.io/a?b=1&c=2"},
		{"probe to=<mailto:a@b.io|a@b.io>", "probe to=a@b.io"},
		{"probe to=<mailto:a@b.io>", "probe to=a@b.io"},
		{"probe who=<@U123> where=<#C1|job-x> all=<!here>", "probe who=<@U123> where=<#C1|job-x> all=<!here>"},
		{"probe a=<http://x|y>b<http://z|w>", "probe a=ybw"},
		{"<not a link>", "<not a link>"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, cleanText(tc.in))
		})
	}
}

func TestClipOutput(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		limit int
		want  string
		rest  int
	}{
		{name: "fits", in: "abc", limit: 3, want: "abc"},
		{name: "cut", in: "abcdef", limit: 4, want: "abcd", rest: 2},
		{name: "escapes count", in: "a<b", limit: 4, want: "a", rest: 2},
		{name: "ampersand", in: "&&", limit: 9, want: "&", rest: 1},
		{name: "rune boundary", in: "ééé", limit: 2, want: "éé", rest: 2},
		{name: "line boundary", in: "ab\ncdef", limit: 5, want: "ab\n", rest: 4},
		{name: "empty", in: "", limit: 0, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, rest := clipOutput(tc.in, tc.limit)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.rest, rest)
		})
	}
}

func TestReplyOutput(t *testing.T) {
	cases := []struct {
		name, in  string
		annotated bool
		want      []string
		not       []string
	}{
		{name: "empty", in: " \n", want: []string{"no output"}},
		{name: "short", in: "ok\n", want: []string{"```ok```"}, not: []string{"truncated"}},
		{name: "fence", in: "a```b", want: []string{"a`\u200b``b"}},
		{name: "mention", in: "<!channel> <@U1>", want: []string{"&lt;!channel&gt; &lt;@U1&gt;"}},
		{name: "long", in: strings.Repeat("x", 5000), want: []string{"truncated", "in the job log_"}},
		{name: "long annotated", in: strings.Repeat("x\n", 3000), annotated: true, want: []string{"log annotation"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := replyOutput(tc.in, tc.annotated)
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
			for _, n := range tc.not {
				require.NotContains(t, got, n)
			}
			if i := strings.LastIndex(got, "```"); i > 0 {
				require.LessOrEqual(t, utf8.RuneCountInString(got[:i+3]), MaxReplyOutput)
			}
		})
	}
}

func TestInlineCode(t *testing.T) {
	require.Equal(t, "`a 'b' &lt;c&gt;`", inlineCode("a `b` <c>"))
}

// FuzzCleanText checks that text typed by a person survives Slack's
// escaping and cleanText unchanged, and that any wire text is handled.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"restart service=api", "a & b <c>", "&amp;lt;", "<http://x|y>", "<mailto:a@b>", "<<>>|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wire := escape(s)
		if got := cleanText(wire); got != s {
			t.Fatalf("cleanText(escape(%q)) = %q", s, got)
		}
		out := cleanText(s)
		if len(out) > len(s) {
			t.Fatalf("cleanText grew %q to %q", s, out)
		}
	})
}

func TestMentionRunText(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{in: "<@UBOT> run restart service=api", want: "restart service=api", ok: true},
		{in: "<@UBOT|cla>: RUN  probe msg=&lt;x&gt;\n", want: "probe msg=&lt;x&gt;", ok: true},
		{in: "hey <@UBOT> run", want: "", ok: true},
		{in: "<@UBOT> running late", ok: false},
		{in: "<@UBOT> status", ok: false},
		{in: "<@UBOTX> run probe", ok: false},
		{in: "run probe", ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := MentionRunText(tc.in, "UBOT")
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAfterRun(t *testing.T) {
	got, ok := AfterRun("  run restart service=api ")
	require.True(t, ok)
	require.Equal(t, "restart service=api", got)
	_, ok = AfterRun("list")
	require.False(t, ok)
	got, ok = AfterRun("run")
	require.True(t, ok)
	require.Empty(t, got)
}

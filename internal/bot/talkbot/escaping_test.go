package talkbot

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/slacktext"
)

// TestHandler_HostileOutputStaysData runs a command whose argument and so
// whose output carry broadcasts, a user mention and a disguised link (typed
// as text; Slack escapes them on the way in): what cla posts
// back (the result in the channel, the job's name, the command line) holds
// them as text, never as Slack control sequences.
func TestHandler_HostileOutputStaysData(t *testing.T) {
	f := newFixture(t, true)
	typed := `probe "msg=<!channel> <!here> <@U0ALICE> <https://evil.example|https://sso.corp>"`
	require.NoError(t, f.h.Run(f.ctx, f.ask(bob, f.channel, typed)))
	require.Len(t, f.runs(), 1)
	require.True(t, strings.HasPrefix(f.runs()[0][0], "<!channel> <!here> <@U0ALICE> "), "the command got the text as typed: %q", f.runs()[0][0])

	var posted int
	tok := regexp.MustCompile(`<[^<>]*>`)
	for _, c := range f.emu.Calls("") {
		if c.Method != "chat.postMessage" && c.Method != "chat.postEphemeral" && c.Method != "chat.update" {
			continue
		}
		texts := []string{c.Arg("text")}
		if raw := c.Arg("blocks"); raw != "" {
			var v any
			require.NoError(t, json.Unmarshal([]byte(raw), &v))
			texts = append(texts, jsonStrings(v)...)
		}
		for _, s := range texts {
			if strings.Contains(s, "&lt;!channel&gt;") {
				posted++
			}
			require.Empty(t, slacktext.Broadcasts(s), "%s: %s", c.Method, s)
			for _, m := range tok.FindAllString(s, -1) {
				require.Equal(t, "<@"+bob+">", m, "%s sent a control sequence from a value: %s", c.Method, s)
			}
		}
	}
	require.Positive(t, posted, "the output reached Slack, as text")
}

// jsonStrings lists every string in a decoded JSON value.
func jsonStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case map[string]any:
		for _, x := range v {
			out = append(out, jsonStrings(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, jsonStrings(x)...)
		}
	}
	return out
}

package talkbot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestHandler_RefusedOnConfirmStaysData: a request whose argument carries a
// broadcast passes the allowlist when asked, then the allowlist is reloaded
// and the recheck at confirmation refuses it, quoting the value. The
// refusal rewrites the confirm message in the channel and is told to the
// clicker (and to later clickers): the quoted value must reach Slack as
// text, never as <!channel>.
func TestHandler_RefusedOnConfirmStaysData(t *testing.T) {
	f := newFixture(t, true)
	reload := func(pattern string) {
		t.Helper()
		src := strings.Replace(allowlistYAML, `target: { pattern: "^[a-z]+$", required: true }`, pattern, 1)
		require.NotEqual(t, allowlistYAML, src)
		exe, err := os.Executable()
		require.NoError(t, err)
		src = strings.NewReplacer("@EXE@", strconv.Quote(exe), "@REC@", strconv.Quote(f.record),
			"@DIR@", strconv.Quote(f.dir)).Replace(src)
		path := filepath.Join(t.TempDir(), "talkback.yaml")
		require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
		require.NoError(t, f.cfg.Registry.Reload(path))
	}
	reload(`target: { pattern: "(?s).*", required: true }`)
	msg, id := f.askConfirm(f.ask(alice, f.channel, `wipe "target=<!channel> <https://evil.example|https://sso.corp>"`))
	reload(`target: { enum: [db], required: true }`)
	f.click(bob, ActionConfirm, msg, id)
	f.click(carol, ActionConfirm, msg, id) // a late clicker is told how it ended
	require.Nil(t, f.runs())
	_, ok := phase(f.talkLog(), "refused_on_confirm")
	require.True(t, ok)

	var quoted int
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
			if strings.Contains(s, "is not one of") {
				quoted++
			}
			require.Empty(t, slacktext.Broadcasts(s), "%s: %s", c.Method, s)
			require.NotContains(t, s, "<https://evil.example", "%s sent a disguised link: %s", c.Method, s)
		}
	}
	require.GreaterOrEqual(t, quoted, 3, "the refusal reached the message, the clicker and the late clicker")
}

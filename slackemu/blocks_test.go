package slackemu

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// section is a mrkdwn section block with text of n characters.
func section(n int) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Repeat("x", n)}}
}

// many repeats a block n times.
func many(n int, b map[string]any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// button is a button element.
func button(id string) map[string]any {
	return map[string]any{"type": "button", "action_id": id, "value": "v",
		"text": map[string]any{"type": "plain_text", "text": "Go"}}
}

func TestValidateBlocks(t *testing.T) {
	text := func(n int) map[string]any { return map[string]any{"type": "mrkdwn", "text": strings.Repeat("c", n)} }
	header := func(n int) map[string]any {
		return map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", n)}}
	}
	actions := func(els ...any) map[string]any { return map[string]any{"type": "actions", "elements": els} }
	buttons := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = button(fmt.Sprintf("b%d", i))
		}
		return out
	}
	cases := []struct {
		name    string
		blocks  []any
		surface Surface
		want    string // substring of the first error; "" = valid
	}{
		{"50 blocks in a message", many(50, section(1)), SurfaceMessage, ""},
		{"51 blocks in a message", many(51, section(1)), SurfaceMessage, "no more than 50 items allowed [json-pointer:/blocks]"},
		{"100 blocks in a modal", many(100, section(1)), SurfaceModal, ""},
		{"101 blocks in a home tab", many(101, section(1)), SurfaceHome, "no more than 100 items"},
		{"section 3000", []any{section(3000)}, SurfaceMessage, ""},
		{"section 3001", []any{section(3001)}, SurfaceMessage, "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"header 150", []any{header(150)}, SurfaceMessage, ""},
		{"header 151", []any{header(151)}, SurfaceMessage, "must be less than 151 characters"},
		{"context 2000", []any{map[string]any{"type": "context", "elements": []any{text(2000)}}}, SurfaceMessage, ""},
		{"context 2001", []any{map[string]any{"type": "context", "elements": []any{text(2001)}}}, SurfaceMessage, "/blocks/0/elements/0/text"},
		{"action id 255", []any{actions(button(strings.Repeat("a", 255)))}, SurfaceMessage, ""},
		{"action id 256", []any{actions(button(strings.Repeat("a", 256)))}, SurfaceMessage, "/blocks/0/elements/0/action_id"},
		{"25 actions", []any{actions(buttons(25)...)}, SurfaceMessage, ""},
		{"26 actions", []any{actions(buttons(26)...)}, SurfaceMessage, "no more than 25 items"},
		{"empty text", []any{section(0)}, SurfaceMessage, "must be more than 0 characters"},
		{"unknown type", []any{map[string]any{"type": "banana"}}, SurfaceMessage, "unsupported type"},
		{"header must be plain", []any{map[string]any{"type": "header", "text": text(3)}}, SurfaceMessage, "/blocks/0/text/type"},
		{"duplicate block ids", []any{
			map[string]any{"type": "divider", "block_id": "a"}, map[string]any{"type": "divider", "block_id": "a"},
		}, SurfaceMessage, "duplicate block_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.blocks)
			errs, err := ValidateBlocks(raw, tc.surface)
			require.NoError(t, err)
			if tc.want == "" {
				require.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			require.Contains(t, errs[0], tc.want)
		})
	}
	t.Run("not an array", func(t *testing.T) {
		_, err := ValidateBlocks(json.RawMessage(`{"type":"divider"}`), SurfaceMessage)
		require.Error(t, err)
	})
}

func TestEmulator_InvalidBlocks(t *testing.T) {
	emu := NewTest(t, fastConfig())
	_, _, general := workspace(t, emu)
	api := client(emu)
	tooMany := make([]slack.Block, 51)
	for i := range tooMany {
		tooMany[i] = slack.NewDividerBlock()
	}
	_, _, err := api.PostMessage(general.ID, slack.MsgOptionBlocks(tooMany...))
	require.EqualError(t, err, "invalid_blocks")

	out := rawCall(t, emu, "chat.postMessage", emu.BotToken(), map[string]any{
		"channel": general.ID, "blocks": []any{section(3001)}})
	require.Equal(t, "invalid_blocks", out["error"])
	require.Equal(t, []any{"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"}, out["errors"])
	meta := out["response_metadata"].(map[string]any)["messages"].([]any)
	require.Equal(t, "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]", meta[0])

	out = rawCall(t, emu, "chat.postMessage", emu.BotToken(), map[string]any{"channel": general.ID, "blocks": "{nope"})
	require.Equal(t, "invalid_blocks_format", out["error"])
	require.Empty(t, emu.Messages(general.ID))
}

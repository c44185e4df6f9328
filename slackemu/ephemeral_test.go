package slackemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// TestEmulator_ActEphemeral: a button in an ephemeral message is clicked
// as in Slack (container.is_ephemeral, a response_url, no "message"), only
// by the person who sees it; its response_url replaces or deletes it
// without any event, and it never appears in the channel's history.
func TestEmulator_ActEphemeral(t *testing.T) {
	emu := NewTest(t, fastConfig())
	bot := newTestBot(t, emu, nil)
	alice, bob, general := workspace(t, emu)
	button := slack.NewActionBlock("eph_actions", slack.NewButtonBlockElement("talkback_confirm", "req-1",
		slack.NewTextBlockObject("plain_text", "Confirm", false, false)))
	ts, err := bot.api.PostEphemeral(general.ID, alice.ID, slack.MsgOptionText("confirm?", false), slack.MsgOptionBlocks(button))
	require.NoError(t, err)
	require.Empty(t, emu.Messages(general.ID), "an ephemeral is not in the channel's history")
	hist, err := bot.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general.ID})
	require.NoError(t, err)
	require.Empty(t, hist.Messages)

	_, err = emu.ClickButton(ctxT(t), bob.ID, general.ID, ts, "talkback_confirm")
	require.ErrorContains(t, err, "no message", "bob never saw alice's ephemeral")
	_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, ts, "no_such_action")
	require.ErrorIs(t, err, ErrNoElement)

	_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, ts, "talkback_confirm")
	require.NoError(t, err)
	cbs := interactions(t, bot)
	require.Len(t, cbs, 1)
	cb := cbs[0]
	require.Equal(t, "message", cb.Container.Type)
	require.True(t, cb.Container.IsEphemeral)
	require.Equal(t, ts, cb.Container.MessageTs)
	require.Equal(t, general.ID, cb.Container.ChannelID)
	require.Equal(t, general.ID, cb.Channel.ID)
	require.Empty(t, cb.Message.Timestamp, "Slack sends no message for an ephemeral")
	require.NotEmpty(t, cb.ResponseURL)
	require.Equal(t, "req-1", cb.ActionCallback.BlockActions[0].Value)

	var raw map[string]any
	require.NoError(t, json.Unmarshal(bot.requests()[len(bot.requests())-1].Payload, &raw))
	require.NotContains(t, raw, "message")

	events := len(eventsOf(t, emu))
	post := func(url string, body map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(url, "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	post(cb.ResponseURL, map[string]any{"replace_original": true, "text": "confirmed"})
	x, ok := emu.EphemeralByTS(general.ID, alice.ID, ts)
	require.True(t, ok)
	require.Equal(t, "confirmed", x.Text)
	require.Empty(t, x.Blocks, "the buttons are gone with the replacement")
	require.Len(t, emu.Ephemerals(alice.ID), 1, "replaced in place, not added")
	_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, ts, "talkback_confirm")
	require.ErrorIs(t, err, ErrNoElement, "the replaced message has no button")

	// A second ephemeral, answered with a new ephemeral, then deleted.
	ts2, err := bot.api.PostEphemeral(general.ID, alice.ID, slack.MsgOptionText("again?", false), slack.MsgOptionBlocks(button))
	require.NoError(t, err)
	_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, ts2, "talkback_confirm")
	require.NoError(t, err)
	cb = interactions(t, bot)[1]
	post(cb.ResponseURL, map[string]any{"text": "a new note"})
	require.Len(t, emu.Ephemerals(alice.ID), 3)
	post(cb.ResponseURL, map[string]any{"delete_original": true})
	_, ok = emu.EphemeralByTS(general.ID, alice.ID, ts2)
	require.False(t, ok)
	require.Len(t, emu.Ephemerals(alice.ID), 2)
	_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, ts2, "talkback_confirm")
	require.ErrorContains(t, err, "no message")
	require.Empty(t, emu.Messages(general.ID))
	require.Len(t, eventsOf(t, emu), events, "nobody else is told about ephemerals")

	// Saved and restored with the workspace.
	snap, err := emu.Snapshot()
	require.NoError(t, err)
	again := NewTest(t, fastConfig())
	require.NoError(t, again.Restore(snap))
	x, ok = again.EphemeralByTS(general.ID, alice.ID, ts)
	require.True(t, ok)
	require.Equal(t, "confirmed", x.Text)
}

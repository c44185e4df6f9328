package slackemu

import (
	"net/http"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// TestEmulator_MessageMetadata: metadata posted with a message comes back
// from conversations.history and conversations.replies only with
// include_all_metadata, and malformed metadata is refused, nothing posted.
func TestEmulator_MessageMetadata(t *testing.T) {
	emu := NewTest(t, fastConfig())
	_, _, general := workspace(t, emu)
	api := client(emu)
	meta := slack.SlackMetadata{EventType: "cla_gate_announced", EventPayload: map[string]any{"job_id": "qa-1", "gate_id": "g1"}}
	_, ts, err := api.PostMessage(general.ID, slack.MsgOptionText("gate", false), slack.MsgOptionMetadata(meta))
	require.NoError(t, err)

	history := func(all bool) []slack.Message {
		t.Helper()
		res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general.ID, IncludeAllMetadata: all})
		require.NoError(t, err)
		return res.Messages
	}
	require.Empty(t, history(false)[0].Metadata.EventType, "metadata only when asked for")
	got := history(true)[0]
	require.Equal(t, ts, got.Timestamp)
	require.Equal(t, "cla_gate_announced", got.Metadata.EventType)
	require.Equal(t, "qa-1", got.Metadata.EventPayload["job_id"])
	replies, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general.ID, Timestamp: ts, IncludeAllMetadata: true})
	require.NoError(t, err)
	require.Equal(t, "g1", replies[0].Metadata.EventPayload["gate_id"])

	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"not json":         {map[string]any{"metadata": "{nope"}, "invalid_metadata_format"},
		"no event_type":    {map[string]any{"metadata": map[string]any{"event_payload": map[string]any{}}}, "invalid_metadata_format"},
		"empty event_type": {map[string]any{"metadata": map[string]any{"event_type": "", "event_payload": map[string]any{}}}, "invalid_metadata_schema"},
		"payload a string": {map[string]any{"metadata": map[string]any{"event_type": "x", "event_payload": "y"}}, "invalid_metadata_schema"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.body["channel"], tc.body["text"] = general.ID, "refused"
			out := rawCall(t, emu, "chat.postMessage", emu.BotToken(), tc.body)
			require.Equal(t, false, out["ok"])
			require.Equal(t, tc.want, out["error"])
		})
	}
	require.Len(t, emu.Messages(general.ID), 1, "a refused post stores nothing")
}

// TestEmulator_FaultAfterEffect: the call takes effect, then the caller
// gets the fault, as when Slack posted but the reply never arrived.
func TestEmulator_FaultAfterEffect(t *testing.T) {
	emu := NewTest(t, fastConfig())
	_, _, general := workspace(t, emu)
	api := client(emu)
	emu.InjectFault("chat.postMessage", Fault{Status: http.StatusInternalServerError, AfterEffect: true, Times: 1})
	_, _, err := api.PostMessage(general.ID, slack.MsgOptionText("lost reply", false))
	var sc slack.StatusCodeError
	require.ErrorAs(t, err, &sc)
	require.Equal(t, http.StatusInternalServerError, sc.Code)
	msgs := emu.Messages(general.ID)
	require.Len(t, msgs, 1, "Slack posted it all the same")
	require.Equal(t, "lost reply", msgs[0].Text)
	_, _, err = api.PostMessage(general.ID, slack.MsgOptionText("next", false))
	require.NoError(t, err, "Times: 1 is consumed")
}

package gates_test

import (
	"encoding/json"
	"testing"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestClicksFrom(t *testing.T) {
	tests := []struct {
		name, payload string
		want          []gates.Click
	}{
		{"message button", `{"type":"block_actions","user":{"id":"U1","name":"al"},"team":{"id":"T1"},"trigger_id":"tr",
			"channel":{"id":"C1"},"container":{"type":"message","message_ts":"1.2","channel_id":"C1"},
			"actions":[{"action_id":"manual_action_complete","block_id":"qa-1/g1/actions","value":"qa-1"}]}`,
			[]gates.Click{{UserID: "U1", UserName: "al", TeamID: "T1", ChannelID: "C1", MessageTS: "1.2",
				ActionID: "manual_action_complete", BlockID: "qa-1/g1/actions", Value: "qa-1", TriggerID: "tr"}}},
		{"home checkboxes", `{"type":"block_actions","user":{"id":"U1"},"container":{"type":"view","view_id":"V1"},
			"actions":[{"action_id":"checklist_toggle","block_id":"qa-1/g1/checklist-0","selected_options":[{"value":"0"},{"value":"3"}]}]}`,
			[]gates.Click{{UserID: "U1", ActionID: "checklist_toggle", BlockID: "qa-1/g1/checklist-0", SelectedOptions: []string{"0", "3"}}}},
		{"no actions", `{"type":"block_actions","user":{"id":"U1"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cb slack.InteractionCallback
			require.NoError(t, json.Unmarshal([]byte(tt.payload), &cb))
			require.Equal(t, tt.want, gates.ClicksFrom(cb))
		})
	}
}

func TestSubmissionFrom(t *testing.T) {
	var cb slack.InteractionCallback
	require.NoError(t, json.Unmarshal([]byte(`{"type":"view_submission","user":{"id":"U1"},"trigger_id":"tr",
		"view":{"callback_id":"manual_action_evidence","private_metadata":"qa-1/g1","state":{"values":{
		"evidence_message":{"evidence_message":{"type":"plain_text_input","value":"done"}},
		"evidence_url":{"evidence_url":{"type":"url_text_input","value":null}}}}}}`), &cb))
	require.Equal(t, gates.Submission{UserID: "U1", CallbackID: "manual_action_evidence", PrivateMetadata: "qa-1/g1",
		TriggerID: "tr", Values: map[string]map[string]string{"evidence_message": {"evidence_message": "done"},
			"evidence_url": {"evidence_url": ""}}}, gates.SubmissionFrom(cb))
	require.Equal(t, gates.Command{UserID: "U1", ChannelID: "C1", Text: "list", TriggerID: "t", ResponseURL: "https://r"},
		gates.CommandFrom(slack.SlashCommand{UserID: "U1", ChannelID: "C1", Text: "list", TriggerID: "t", ResponseURL: "https://r"}))
}

package bot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name, payload string
		want          Incoming
	}{
		{name: "message", payload: `{"event_id":"Ev1","event":{"type":"message","user":"U1","channel":"C1","text":"hi","ts":"1.000001"}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev1", User: "U1", Channel: "C1", Text: "hi", TS: "1.000001"}},
		{name: "thread reply", payload: `{"event_id":"Ev2","event":{"type":"message","user":"U1","channel":"C1","text":"re","ts":"2.0","thread_ts":"1.0"}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev2", User: "U1", Channel: "C1", Text: "re", TS: "2.0", ThreadTS: "1.0"}},
		{name: "edit", payload: `{"event_id":"Ev3","event":{"type":"message","subtype":"message_changed","channel":"C1","ts":"9.0",
			"message":{"user":"U1","text":"new","ts":"1.0","edited":{"user":"U1","ts":"8.0"}},"previous_message":{"user":"U1","text":"old","ts":"1.0"}}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev3", User: "U1", Channel: "C1", Text: "new", TS: "1.0", Subtype: "message_changed", EditedTS: "8.0"}},
		{name: "delete", payload: `{"event_id":"Ev4","event":{"type":"message","subtype":"message_deleted","channel":"C1","ts":"9.0","deleted_ts":"1.0",
			"previous_message":{"user":"U1","text":"old","ts":"1.0","thread_ts":"0.5"}}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev4", User: "U1", Channel: "C1", Text: "old", TS: "1.0", ThreadTS: "0.5", Subtype: "message_deleted"}},
		{name: "file share", payload: `{"event_id":"Ev5","event":{"type":"message","subtype":"file_share","user":"U1","channel":"C1","text":"","ts":"3.0",
			"files":[{"id":"F1","name":"disk.png","size":42,"permalink":"https://x/F1"}]}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev5", User: "U1", Channel: "C1", TS: "3.0", Subtype: "file_share",
				Files: []File{{ID: "F1", Name: "disk.png", Size: 42, Permalink: "https://x/F1"}}}},
		{name: "bot message", payload: `{"event_id":"Ev6","event":{"type":"message","user":"UB","bot_id":"B1","channel":"C1","text":"x","ts":"4.0"}}`,
			want: Incoming{Kind: KindMessage, EventID: "Ev6", User: "UB", BotID: "B1", Channel: "C1", Text: "x", TS: "4.0"}},
		{name: "mention", payload: `{"event_id":"Ev7","event":{"type":"app_mention","user":"U1","channel":"C1","text":"<@UB> help","ts":"5.0"}}`,
			want: Incoming{Kind: KindMention, EventID: "Ev7", User: "U1", Channel: "C1", Text: "<@UB> help", TS: "5.0"}},
		{name: "home", payload: `{"event_id":"Ev8","event":{"type":"app_home_opened","user":"U1","channel":"D1","tab":"home"}}`,
			want: Incoming{Kind: KindHomeOpened, EventID: "Ev8", User: "U1", Channel: "D1"}},
		{name: "unknown", payload: `{"event_id":"Ev9","event":{"type":"reaction_added","user":"U1"}}`,
			want: Incoming{Kind: KindOtherEvent, EventID: "Ev9", User: "U1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in Incoming
			require.NoError(t, parseEvent(&in, json.RawMessage(tc.payload)))
			require.Equal(t, tc.want, in)
		})
	}
	t.Run("bad json", func(t *testing.T) {
		var in Incoming
		require.Error(t, parseEvent(&in, json.RawMessage(`{"event":`)))
		require.Equal(t, KindOtherEvent, in.Kind)
	})
}

func TestMirrorEntry(t *testing.T) {
	cases := []struct {
		name   string
		in     Incoming
		key    string
		fields map[string]string
	}{
		{name: "message", in: Incoming{User: "U1", Channel: "C1", Text: "hi", TS: "1.0"},
			key: "slack:C1:1.0", fields: map[string]string{"user": "U1", "ts": "1.0", "channel": "C1"}},
		{name: "reply", in: Incoming{User: "U1", Channel: "C1", Text: "re", TS: "2.0", ThreadTS: "1.0"},
			key: "slack:C1:2.0", fields: map[string]string{"user": "U1", "ts": "2.0", "channel": "C1", "thread_ts": "1.0"}},
		{name: "edit", in: Incoming{User: "U1", Channel: "C1", Text: "new", TS: "1.0", Subtype: "message_changed", EditedTS: "8.0"},
			key: "slack:C1:1.0:edit:8.0", fields: map[string]string{"user": "U1", "ts": "1.0", "channel": "C1", "subtype": "message_changed", "edited_ts": "8.0"}},
		{name: "delete", in: Incoming{User: "U1", Channel: "C1", Text: "old", TS: "1.0", Subtype: "message_deleted"},
			key: "slack:C1:1.0:delete", fields: map[string]string{"user": "U1", "ts": "1.0", "channel": "C1", "subtype": "message_deleted"}},
		{name: "files", in: Incoming{User: "U1", Channel: "C1", TS: "3.0", Subtype: "file_share",
			Files: []File{{Name: "a.png", Size: 1, Permalink: "p1"}, {Name: "b.txt", Size: 22}}},
			key: "slack:C1:3.0", fields: map[string]string{"user": "U1", "ts": "3.0", "channel": "C1", "subtype": "file_share", "files": "2",
				"file.1.name": "a.png", "file.1.size": "1", "file.1.permalink": "p1", "file.2.name": "b.txt", "file.2.size": "22"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mirrorEntry(&tc.in, "alice")
			require.Equal(t, jobs.LogEntry{Kind: jobs.LogMessage, Actor: "alice", Via: jobs.ViaSlack, Text: tc.in.Text,
				Fields: tc.fields, Key: tc.key}, e)
		})
	}
}

func TestMirrored(t *testing.T) {
	cases := []struct {
		name string
		in   Incoming
		want bool
	}{
		{"plain", Incoming{Channel: "C1", TS: "1"}, true},
		{"thread broadcast", Incoming{Channel: "C1", TS: "1", Subtype: "thread_broadcast"}, true},
		{"edit", Incoming{Channel: "C1", TS: "1", Subtype: "message_changed", EditedTS: "2"}, true},
		{"unfurl is not an edit", Incoming{Channel: "C1", TS: "1", Subtype: "message_changed"}, false},
		{"join", Incoming{Channel: "C1", TS: "1", Subtype: "channel_join"}, false},
		{"topic", Incoming{Channel: "C1", TS: "1", Subtype: "channel_topic"}, false},
		{"no ts", Incoming{Channel: "C1"}, false},
		{"no channel", Incoming{TS: "1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, mirrored(&tc.in))
		})
	}
}

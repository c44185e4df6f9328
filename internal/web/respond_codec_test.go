package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestWriteJSON_AsEncodingJSON: answers are the bytes encoding/json's
// Encoder writes (markup escaped, a trailing newline), webhook secrets
// redacted.
func TestWriteJSON_AsEncodingJSON(t *testing.T) {
	now := time.Date(2026, 12, 2, 4, 5, 6, 789, time.UTC)
	job := &jobs.Job{ID: "j<1>", Name: "Deploy <b>&</b> \u2028 ü", Status: jobs.StatusActionRequired, CreatedAt: now,
		Context: map[string]any{"n": 1.5, "list": []any{"a", nil, true}, "m": map[string]any{}},
		Gates: []*jobs.Gate{{ID: "g1", OpenedAt: now, GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"ops"},
			Channels: []jobs.NotifyChannel{{Type: jobs.ChannelWebhook, URL: "https://user:secret@hooks.example/x"}}}}}}
	for _, v := range []any{job, completionAnswer{JobID: job.ID, Status: jobs.StatusSuccessful, Job: job}, errorBody{Error: "<x>", Code: "c"}} {
		w := httptest.NewRecorder()
		writeJSON(w, 200, v)
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(redacted(v)))
		require.Equal(t, want.String(), w.Body.String())
		require.NotContains(t, w.Body.String(), "secret")
	}
}

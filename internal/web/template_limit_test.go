package web_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAPI_TemplateAmplification replays issue 17 item 2: a short
// description with nested ranges is a 400 naming the limit, and nothing is
// stored.
func TestAPI_TemplateAmplification(t *testing.T) {
	f := newFixture(t)
	list := make([]int, 100)
	desc := `{[range .l]}{[range $.l]}{[range $.l]}{[range $.l]}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{[end]}{[end]}{[end]}{[end]}`
	r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "amp-1", "name": "amp", "context": map[string]any{"l": list},
		"gate": map[string]any{"kind": "action", "name": "x", "description": desc}})
	require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
	require.Contains(t, r.json()["error"], "size limit of 65536 bytes")
	r = f.call("GET", "/v1/jobs/amp-1", tokCI, nil)
	require.Equal(t, http.StatusNotFound, r.status)

	r = f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "amp-2", "name": "amp", "context": map[string]any{"l": list}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	r = f.call("POST", "/v1/jobs/amp-2/gates", tokCI, map[string]any{"kind": "action", "name": "x",
		"description": `{[if 1]}{[if 1]}{[if 1]}{[if 1]}{[if 1]}x{[end]}{[end]}{[end]}{[end]}{[end]}`})
	require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
	require.Contains(t, r.json()["error"], "nesting limit of 4")
	require.Empty(t, f.job("amp-2").Gates)
}

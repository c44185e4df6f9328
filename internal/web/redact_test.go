package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

// TestAPI_WebhookURLsRedacted replays issue 17 item 16: the API never
// returns webhook credentials; the stored gate keeps them for delivery.
func TestAPI_WebhookURLsRedacted(t *testing.T) {
	f := newFixture(t)
	secretURL := "https://bot:pa55word@hooks.example.com/services/T0/B0?token=s3cret&sig=abc"
	r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "red-1", "name": "n", "gate": map[string]any{"kind": "action", "name": "x",
		"assignees": []string{"ops"}, "channels": []map[string]any{{"type": "webhook", "url": secretURL}},
		"escalation": []map[string]any{{"after": "1h", "channels": []map[string]any{{"type": "webhook", "url": secretURL}}}}}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	for _, path := range []string{"/v1/jobs/red-1", "/v1/jobs", "/v1/jobs/red-1?since=0&wait=1s"} {
		r = f.call("GET", path, tokCI, nil)
		require.Equal(t, http.StatusOK, r.status)
		body := string(r.body)
		for _, leak := range []string{"pa55word", "s3cret", "abc", "bot:"} {
			require.NotContains(t, body, leak, path)
		}
		require.Contains(t, body, "hooks.example.com/services/T0/B0", path)
	}
	require.True(t, strings.Contains(string(r.body), "REDACTED@hooks.example.com"))
	require.Equal(t, secretURL, f.job("red-1").Gates[0].Channels[0].URL, "delivery keeps the real URL")
}

func FuzzRedactURL(f *testing.F) {
	f.Add("pa55word")
	f.Add("a b&c=d")
	f.Fuzz(func(t *testing.T, secret string) {
		esc := url.QueryEscape(secret)
		out := jobs.RedactURL("https://u:" + esc + "@h/p?k=" + esc + "&" + esc + "=1")
		if len(esc) < 4 || strings.Contains("https://REDACTED@h/p?k=REDACTED&REDACTED=1", esc) {
			return
		}
		require.NotContains(t, strings.SplitN(out, "?", 2)[0], esc, "credentials leaked")
		for _, v := range mustQuery(t, out) {
			require.Equal(t, []string{"REDACTED"}, v)
		}
	})
}

func mustQuery(t *testing.T, raw string) url.Values {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query()
}

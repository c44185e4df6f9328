package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// markupFixture is newFixture with the service wired as cla serve wires
// it: gate descriptions are Slack text (internal/slacktext.Markup).
func markupFixture(t *testing.T, allowBroadcasts bool) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Markup: slacktext.Markup{AllowBroadcasts: allowBroadcasts}})
	api := web.New(web.Config{Service: svc, Keyring: web.NewKeyring(testIdentities()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Stop(); srv.Close(); _ = db.Close() })
	return &fixture{t: t, srv: srv, api: api, svc: svc, db: db}
}

// TestAPI_BroadcastMentions replays issue 17 item 6 at the API: a
// description whose own text would notify a whole channel is a 400 naming
// the mention and the config key, on both doors that open gates, and
// nothing is stored; the same mentions arriving as dispatch-context values
// are data (escaped, accepted); slack.allowBroadcastMentions lets the
// template's own text through.
func TestAPI_BroadcastMentions(t *testing.T) {
	ctx := map[string]any{"who": "<!channel>", "link": "https://evil.example|https://sso.corp"}
	t.Run("refused by default", func(t *testing.T) {
		f := markupFixture(t, false)
		for i, desc := range []string{"<!channel> please look", "ping <!here|here>", "all: <!everyone>", "{[if 1]}<!channel>{[end]} {[.who]}"} {
			id := "bc-" + string(rune('a'+i))
			r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": id, "name": "x", "context": ctx,
				"gate": map[string]any{"kind": "action", "name": "x", "description": desc}})
			require.Equal(t, http.StatusBadRequest, r.status, desc)
			require.Contains(t, r.json()["error"], "would notify everyone in the channel", desc)
			require.Contains(t, r.json()["error"], "slack.allowBroadcastMentions", desc)
			require.Equal(t, http.StatusNotFound, f.call("GET", "/v1/jobs/"+id, tokCI, nil).status, "nothing stored")
		}
		r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "bc-open", "name": "x", "context": ctx})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		r = f.call("POST", "/v1/jobs/bc-open/gates", tokCI, map[string]any{"kind": "action", "name": "x", "description": "<!here> now"})
		require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
		require.Empty(t, f.job("bc-open").Gates)

		r = f.call("POST", "/v1/jobs/bc-open/gates", tokCI, map[string]any{"kind": "action", "name": "{[.who]}",
			"description": "*Ask* {[.who]} — <{[.link]}|runbook> <@U0OPS>"})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		g := f.job("bc-open").OpenGate()
		require.Equal(t, "<!channel>", g.Name, "a name is plain text, escaped where it is shown")
		require.Equal(t, "*Ask* &lt;!channel&gt; — <https://evil.example%7Chttps://sso.corp|runbook> <@U0OPS>", g.Description,
			"values are data, the template's own markup stays")
	})
	t.Run("allowed by config", func(t *testing.T) {
		f := markupFixture(t, true)
		r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "bc-ok", "name": "x", "context": ctx,
			"gate": map[string]any{"kind": "action", "name": "x", "description": "<!channel> {[.who]}"}})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		require.Equal(t, "<!channel> &lt;!channel&gt;", f.job("bc-ok").OpenGate().Description, "a value still cannot broadcast")
	})
}

package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// fakeVerifier accepts "good-<job>-<gate>" tokens.
type fakeVerifier struct{}

func (fakeVerifier) Verify(token string) (string, string, error) {
	parts := strings.Split(token, "-")
	if len(parts) != 3 || parts[0] != "good" {
		return "", "", errors.New("bad signature")
	}
	return parts[1], parts[2], nil
}

func TestServer_Callback(t *testing.T) {
	f := newFixture(t, func(c *web.Config) { c.Callbacks = fakeVerifier{} })
	f.actionJob("cb1", jobs.GateConfig{Assignees: []string{"ops"}, RequireEvidence: true})
	cases := []struct {
		name, token string
		body        any
		status      int
		code        string
	}{
		{"bad token", "evil-cb1-g1", map[string]any{"status": "successful"}, 401, "unauthorized"},
		{"gate of another job", "good-nojob-g1", map[string]any{"status": "successful"}, 404, "not_found"},
		{"wrong action", "good-cb1-g1", map[string]any{"action": "approve"}, 400, "invalid"},
		{"malformed", "good-cb1-g1", `{`, 400, "bad_json"},
		{"completes", "good-cb1-g1", map[string]any{"status": "successful", "evidence": map[string]any{"url": "https://ci/1"}}, 200, ""},
		{"single use", "good-cb1-g1", map[string]any{"status": "successful"}, 409, "conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call("POST", "/v1/callbacks/"+tc.token, "", tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Equal(t, tc.code, r.code())
		})
	}
	g := f.job("cb1").Gates[0]
	require.Equal(t, jobs.ViaWebhook, *g.ResolvedVia)
	require.Equal(t, jobs.OutcomeSuccessful, *g.Outcome)
}

// TestServer_CallbackRefusedThenValid: a refused attempt (evidence
// missing) leaves the link usable and says why; the valid one then
// resolves the gate, and a replay after success is a 409.
func TestServer_CallbackRefusedThenValid(t *testing.T) {
	f := newFixture(t, func(c *web.Config) { c.Callbacks = fakeVerifier{} })
	f.actionJob("cb2", jobs.GateConfig{Assignees: []string{"ops"}, RequireEvidence: true})
	r := f.call("POST", "/v1/callbacks/good-cb2-g1", "", map[string]any{"status": "successful"})
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Contains(t, r.json()["error"], "requires evidence")
	require.Equal(t, jobs.GateOpen, f.job("cb2").Gates[0].State, "a refused attempt changes nothing")

	r = f.call("POST", "/v1/callbacks/good-cb2-g1", "", map[string]any{"status": "successful", "evidence": map[string]any{"url": "https://ci/2"}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, jobs.OutcomeSuccessful, *f.job("cb2").Gates[0].Outcome)

	r = f.call("POST", "/v1/callbacks/good-cb2-g1", "", map[string]any{"status": "successful", "evidence": map[string]any{"url": "https://ci/2"}})
	require.Equal(t, http.StatusConflict, r.status, "%s", r.body)
}

// TestServer_CallbackSpentWithVote: a link that cast a vote (quorum not
// reached, so the gate stays open) is spent by that vote.
func TestServer_CallbackSpentWithVote(t *testing.T) {
	f := newFixture(t, func(c *web.Config) { c.Callbacks = fakeVerifier{} })
	f.gateJob("cb3", jobs.GateConfig{Kind: jobs.KindApproval, Name: "ship", Required: 2})
	r := f.call("POST", "/v1/callbacks/good-cb3-g1", "", map[string]any{"status": "successful"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	r = f.call("POST", "/v1/callbacks/good-cb3-g1", "", map[string]any{"status": "successful"})
	require.Equal(t, http.StatusConflict, r.status, "%s", r.body)
	fresh, err := f.svc.Store().Once(context.Background(), "callback:good-cb3-g1")
	require.NoError(t, err)
	require.False(t, fresh, "the vote spent the link")
	g := f.job("cb3").Gates[0]
	require.Len(t, g.Approvals, 1)
	require.Equal(t, jobs.GateOpen, g.State)
}

func TestServer_ReloadTalkback(t *testing.T) {
	calls := 0
	fail := false
	f := newFixture(t, func(c *web.Config) {
		c.ReloadTalkback = func() error {
			calls++
			if fail {
				return errors.New("talkback.yaml:3: unknown field")
			}
			return nil
		}
	})
	r := f.call("POST", "/v1/talkback/reload", tokAlice, nil)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, 0, calls)
	r = f.call("POST", "/v1/talkback/reload", tokAdmin, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	fail = true
	r = f.call("POST", "/v1/talkback/reload", tokAdmin, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.json()["error"], "talkback.yaml:3")
	require.Equal(t, 2, calls)
}

func TestServer_Monitor(t *testing.T) {
	mon := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("monitor " + r.URL.Path))
	})
	f := newFixture(t, func(c *web.Config) { c.Monitor = mon })
	r := f.call("GET", "/jobs/qa-1", "", nil)
	require.Equal(t, "monitor /jobs/qa-1", string(r.body))
	r = f.call("GET", "/v1/unknown", tokAlice, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	r = f.call("GET", "/healthz", "", nil)
	require.Equal(t, http.StatusOK, r.status)
}

func TestServer_WebLogin(t *testing.T) {
	f := newFixture(t)
	r := f.call("POST", "/v1/web-login", tokAlice, nil)
	require.Equal(t, http.StatusNotFound, r.status, "no monitor, no link")

	f = newFixture(t, func(c *web.Config) {
		c.LoginLink = func(id jobs.Identity) string { return "http://cla/login/for-" + id.Name }
	})
	r = f.call("POST", "/v1/web-login", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = f.call("POST", "/v1/web-login", tokAlice, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "http://cla/login/for-alice", r.json()["url"])
}

func TestServer_Via(t *testing.T) {
	f := newFixture(t)
	f.actionJob("via-1", jobs.GateConfig{})
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/jobs/via-1/complete", strings.NewReader(`{"status":"failure"}`))
	req.Header.Set("Authorization", "Bearer "+tokAlice)
	req.Header.Set("X-Cla-Via", "slack")
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, jobs.ViaAPI, *f.job("via-1").Gates[0].ResolvedVia, "slack cannot be claimed")
}

// TestServer_NoSecretLeaks checks that tokens appear neither in /metrics
// nor in the debug request log, callback tokens included.
func TestServer_NoSecretLeaks(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *web.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Callbacks = fakeVerifier{}
	})
	f.actionJob("leak-1", jobs.GateConfig{})
	f.call("GET", "/v1/jobs/leak-1", tokAlice, nil)
	f.call("GET", "/v1/jobs/leak-1", "not-a-valid-token-secret", nil)
	f.call("POST", "/v1/callbacks/good-leak-1-g1", "", map[string]any{"status": "successful"})
	f.call("POST", "/v1/callbacks/evil-callback-secret", "", map[string]any{"status": "successful"})
	r := f.call("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, string(r.body), `cla_http_requests_total{code="200",route="GET /v1/jobs/{id}"}`)
	require.Contains(t, logs.String(), "route=\"GET /v1/jobs/{id}\"")
	for _, secret := range []string{tokAlice, "not-a-valid-token-secret", "good-leak-1-g1", "evil-callback-secret"} {
		require.NotContains(t, string(r.body), secret)
		require.NotContains(t, logs.String(), secret)
	}
}

func TestKeyring_Lookup(t *testing.T) {
	k := web.NewKeyring([]web.Credential{
		{Digest: web.HashToken("a"), Identity: jobs.Identity{Name: "alice"}},
		{Digest: web.HashToken("b"), Identity: jobs.Identity{Name: "bob"}},
	})
	cases := []struct {
		token, want string
		ok          bool
	}{{"a", "alice", true}, {"b", "bob", true}, {"c", "", false}, {"", "", false}, {"a ", "", false}}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			id, ok := k.Lookup(tc.token)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, id.Name)
		})
	}
	var empty *web.Keyring
	_, ok := empty.Lookup("a")
	require.False(t, ok)
}

package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// Tokens of the test identities.
const (
	tokAlice = "alice-token"
	tokBob   = "bob-token"
	tokCarol = "carol-token"
	tokCI    = "ci-token"
	tokAdmin = "admin-token"
)

type fixture struct {
	t   testing.TB
	srv *httptest.Server
	api *web.Server
	svc *jobs.Service
	db  *store.DB
}

func testIdentities() []web.Credential {
	ids := map[string]jobs.Identity{
		tokAlice: {Name: "alice", Email: "alice@example.com", Groups: []string{"ops"}},
		tokBob:   {Name: "bob", Groups: []string{"ops"}},
		tokCarol: {Name: "carol"},
		tokCI:    {Name: "ci"},
		tokAdmin: {Name: "root", Admin: true},
	}
	var creds []web.Credential
	for tok, id := range ids {
		creds = append(creds, web.Credential{Digest: web.HashToken(tok), Identity: id})
	}
	return creds
}

func newFixture(t testing.TB, mod ...func(*web.Config)) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	cfg := web.Config{Service: svc, Keyring: web.NewKeyring(testIdentities()),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mod {
		m(&cfg)
	}
	api := web.New(cfg)
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		api.Stop()
		srv.Close()
		_ = db.Close()
	})
	return &fixture{t: t, srv: srv, api: api, svc: svc, db: db}
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (r reply) code() string { s, _ := r.json()["code"].(string); return s }

// call sends body (a string is sent raw, anything else as JSON).
func (f *fixture) call(method, path, token string, body any) reply {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(f.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	require.NoError(f.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	require.NotEmpty(f.t, resp.Header.Get("Content-Type"), "%s %s has no Content-Type", method, path)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// job reads a job straight from the service.
func (f *fixture) job(id string) *jobs.Job {
	f.t.Helper()
	j, err := f.svc.GetJob(context.Background(), id)
	require.NoError(f.t, err)
	return j
}

// actionJob creates a job with an open action gate.
func (f *fixture) actionJob(id string, cfg jobs.GateConfig) *jobs.Job {
	f.t.Helper()
	cfg.Kind = jobs.KindAction
	if cfg.Name == "" {
		cfg.Name = "Swap disk"
	}
	j, err := f.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI,
		jobs.NewJob{ID: id, Name: "Deploy " + id, Gate: &cfg, Context: map[string]any{"resource": map[string]any{"name": "node-7"}}})
	require.NoError(f.t, err)
	return j
}

// gateJob creates a job whose first gate has the given config.
func (f *fixture) gateJob(id string, cfg jobs.GateConfig) *jobs.Job {
	f.t.Helper()
	j, err := f.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI,
		jobs.NewJob{ID: id, Name: "Deploy " + id, Gate: &cfg})
	require.NoError(f.t, err)
	return j
}

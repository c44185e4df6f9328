package monitor

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// fixture is a monitor over a real bbolt store and a real jobs.Service,
// served on 127.0.0.1.
type fixture struct {
	t   *testing.T
	svc *jobs.Service
	mon *Monitor
	srv *httptest.Server
	dir *jobs.Directory
}

var testIdentities = []jobs.Identity{
	{Name: "alice", Email: "alice@example.com", Groups: []string{"ops"}},
	{Name: "bob", Email: "bob@example.com", Groups: []string{"ops"}},
	{Name: "carol", Email: "carol@example.com"},
	{Name: "ci", Admin: true},
}

func newFixture(t *testing.T) *fixture { return newFixtureClock(t, nil) }

// newFixtureClock is newFixture with the service's clock injected.
func newFixtureClock(t *testing.T, now func() time.Time) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return newFixtureOn(t, db, now)
}

// newFixtureOn is a monitor on its own server over the store st (a real
// store, possibly wrapped by a test), with the service's clock now.
func newFixtureOn(t *testing.T, st jobs.Store, now func() time.Time) *fixture {
	t.Helper()
	f := &fixture{t: t, svc: jobs.NewService(st, jobs.NewBroker(), jobs.Options{MaxFileBytes: 64 << 10, Now: now}),
		dir: jobs.NewDirectory(testIdentities)}
	var err error
	f.mon, err = New(Config{
		Service:      f.svc,
		Authenticate: func(tok string) (jobs.Identity, bool) { return f.dir.ByName(strings.TrimPrefix(tok, "tok-")) },
		Identity:     f.dir.ByName,
		SessionKey:   []byte("0123456789abcdef0123456789abcdef"),
		MaxFileBytes: 64 << 10,
	})
	require.NoError(t, err)
	f.srv = httptest.NewServer(f.mon)
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.mon.Close) // runs first: ends the live streams that Close would wait for
	f.mon.cfg.PublicURL = f.srv.URL
	return f
}

func (f *fixture) id(name string) jobs.Identity {
	id, ok := f.dir.ByName(name)
	require.True(f.t, ok)
	return id
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, so that tests see them.
type browser struct {
	f    *fixture
	c    *http.Client
	csrf string
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn signs a browser in with a token through the form.
func (f *fixture) signIn(name string) *browser {
	b := f.browser()
	_, body := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfIn(f.t, body)}, "token": {"tok-" + name}, "next": {"/"}})
	require.Equal(f.t, http.StatusSeeOther, resp.StatusCode)
	_, body = b.get("/")
	b.csrf = csrfIn(f.t, body)
	return b
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfIn(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf field in page")
	return m[1]
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.f.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.f.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.f.t, err)
	return resp, string(data)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, err := http.NewRequest(http.MethodGet, b.f.srv.URL+path, nil)
	require.NoError(b.f.t, err)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	req, err := http.NewRequest(http.MethodPost, b.f.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// act posts a form with the browser's CSRF token.
func (b *browser) act(path string, form url.Values) (*http.Response, string) {
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.post(path, form)
}

// createJob makes a job with an open gate through the service, as a
// pipeline would.
func (f *fixture) createJob(id, name string, gate *jobs.GateConfig) *jobs.Job {
	f.t.Helper()
	job, err := f.svc.CreateJob(context.Background(), f.id("ci"), jobs.ViaAPI, jobs.NewJob{ID: id, Name: name, Gate: gate})
	require.NoError(f.t, err)
	return job
}

func (f *fixture) job(id string) *jobs.Job {
	f.t.Helper()
	job, err := f.svc.GetJob(context.Background(), id)
	require.NoError(f.t, err)
	return job
}

func TestNew(t *testing.T) {
	svc := jobs.NewService(nil, jobs.NewBroker(), jobs.Options{})
	auth := func(string) (jobs.Identity, bool) { return jobs.Identity{}, false }
	key := []byte("0123456789abcdef0123456789abcdef")
	for name, cfg := range map[string]Config{
		"no service": {Authenticate: auth, Identity: func(string) (jobs.Identity, bool) { return jobs.Identity{}, false }, SessionKey: key},
		"no auth":    {Service: svc, SessionKey: key},
		"short key":  {Service: svc, Authenticate: auth, Identity: func(string) (jobs.Identity, bool) { return jobs.Identity{}, false }, SessionKey: key[:16]},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			require.Error(t, err)
		})
	}
}

func TestMonitor_ServeHTTP(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	t.Run("security headers and assets", func(t *testing.T) {
		resp, body := b.get("/assets/style.css")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, "--wait-bg")
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	})
	t.Run("unknown page is 404", func(t *testing.T) {
		resp, body := b.get("/nope")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, body, "There is no page")
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

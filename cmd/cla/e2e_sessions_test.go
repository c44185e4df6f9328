package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/stretchr/testify/require"
)

// webBrowser is a cookie-keeping HTTP client that does not follow
// redirects, talking to a running server's web monitor.
type webBrowser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newWebBrowser(t *testing.T, base string) *webBrowser {
	jar, _ := cookiejar.New(nil)
	return &webBrowser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *webBrowser) do(method, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

// signIn uses the token sign-in form and returns the page CSRF token.
func (b *webBrowser) signIn(token string) string {
	b.t.Helper()
	_, _, page := b.do("GET", "/login", nil)
	m := csrfInput.FindStringSubmatch(page)
	require.NotNil(b.t, m, page)
	code, _, _ := b.do("POST", "/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/"}})
	require.Equal(b.t, http.StatusSeeOther, code)
	code, _, page = b.do("GET", "/", nil)
	require.Equal(b.t, http.StatusOK, code)
	return csrfInput.FindStringSubmatch(page)[1]
}

// copyTo is a browser on base holding a copy of b's cookies.
func (b *webBrowser) copyTo(base string) *webBrowser {
	c := newWebBrowser(b.t, base)
	from, _ := url.Parse(b.base)
	to, _ := url.Parse(base)
	c.c.Jar.SetCookies(to, b.c.Jar.Cookies(from))
	return c
}

func (b *webBrowser) requireOut(why string) {
	b.t.Helper()
	code, loc, _ := b.do("GET", "/", nil)
	require.Equal(b.t, http.StatusSeeOther, code, why)
	require.True(b.t, strings.HasPrefix(loc, "/login"), "%s: %s", why, loc)
}

// TestServe_LogoutRevokesCopiedCookie: on the real server, a session
// cookie copied before sign-out no longer opens the monitor; sessions
// survive a restart, are listed, and one can be revoked from another
// browser.
func TestServe_LogoutRevokesCopiedCookie(t *testing.T) {
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "cla.db"), testConfig(t, dir)
	env := []string{"E2E_CI_TOKEN=" + tokCI}
	srv := startServer(t, env, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg)
	laptop := newWebBrowser(t, srv.url())
	csrf := laptop.signIn(tokAlice)
	thief := laptop.copyTo(srv.url())
	code, _, _ := thief.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, code, "the copy works while the session lives")

	code, loc, _ := laptop.do("POST", "/logout", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/login", loc)
	thief.requireOut("signed out: the copied cookie is revoked")
	code, _, _ = thief.do("GET", "/jobs/x/events", nil)
	require.Equal(t, http.StatusUnauthorized, code, "a stream with the revoked cookie")

	laptop.signIn(tokAlice)
	phone := newWebBrowser(t, srv.url())
	phone.signIn(tokAlice)
	srv.stop()
	srv = startServer(t, env, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg)
	laptop, phone = laptop.copyTo(srv.url()), phone.copyTo(srv.url())
	code, _, page := laptop.do("GET", "/sessions", nil)
	require.Equal(t, http.StatusOK, code, "sessions survive a restart")
	ids := regexp.MustCompile(`name="id" value="([0-9a-f]{64})"`).FindAllStringSubmatch(page, -1)
	require.Len(t, ids, 2, "both of alice's live sessions are listed, the signed-out one is not")
	current := strings.Index(page, "(this browser)")
	other := ids[0][1]
	if strings.Index(page, ids[0][1]) > current {
		other = ids[1][1] // the first row is this browser's: its marker comes before its id
	}
	code, _, _ = laptop.do("POST", "/sessions/revoke", url.Values{"csrf": {csrfInput.FindStringSubmatch(page)[1]}, "id": {other}})
	require.Equal(t, http.StatusSeeOther, code)
	phone.requireOut("revoked from the laptop")
	code, _, _ = laptop.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, code, "the laptop stays signed in")
	srv.stop()
}

// TestServe_SessionsAcrossReplicas: two replicas on one PostgreSQL
// database; a sign-out on one revokes the session on the other, and an
// admin on one revokes every session of a user signed in on the other.
func TestServe_SessionsAcrossReplicas(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	env := []string{"E2E_CI_TOKEN=" + tokCI}
	a := startServer(t, env, "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg)
	b := startServer(t, env, "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg)

	onA := newWebBrowser(t, a.url())
	csrf := onA.signIn(tokAlice)
	onB := onA.copyTo(b.url())
	code, _, _ := onB.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, code, "one sign-in serves every replica")
	code, _, _ = onA.do("POST", "/logout", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, code)
	onB.requireOut("signed out on replica A")

	bobOnB := newWebBrowser(t, b.url())
	bobOnB.signIn(tokBob)
	root := newWebBrowser(t, a.url())
	csrf = root.signIn(tokRoot)
	code, _, page := root.do("GET", "/sessions?identity=bob", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "Sessions of bob")
	code, _, _ = root.do("POST", "/sessions/revoke-all", url.Values{"csrf": {csrf}, "identity": {"bob"}})
	require.Equal(t, http.StatusSeeOther, code)
	bobOnB.requireOut("an admin on replica A revoked all of bob's sessions")
	a.stop()
	b.stop()
}

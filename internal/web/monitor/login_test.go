package monitor

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMonitor_signedIn(t *testing.T) {
	f := newFixture(t)
	f.createJob("qa-1", "Deploy", nil)
	anon := f.browser()
	for _, tc := range []struct{ path, next string }{
		{"/", "%2F"},
		{"/jobs/qa-1", "%2Fjobs%2Fqa-1"},
		{"/jobs/qa-1?fragment=live", "%2Fjobs%2Fqa-1%3Ffragment%3Dlive"},
		{"/jobs/qa-1/files/1", "%2Fjobs%2Fqa-1%2Ffiles%2F1"},
	} {
		t.Run("no session redirects "+tc.path, func(t *testing.T) {
			resp, body := anon.get(tc.path)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			require.Equal(t, "/login?next="+tc.next, resp.Header.Get("Location"))
			require.NotContains(t, body, "Deploy")
		})
	}
	t.Run("no session stream is 401", func(t *testing.T) {
		resp, _ := anon.get("/jobs/qa-1/events")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("no session post redirects and changes nothing", func(t *testing.T) {
		resp, _ := anon.post("/jobs/qa-1/annotations", url.Values{"text": {"hi"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Empty(t, f.job("qa-1").Annotations)
	})
	t.Run("cross-site navigation hops through the site", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/jobs/qa-1", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, body := anon.do(req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `http-equiv="refresh" content="0;url=/jobs/qa-1"`)
	})
	t.Run("tampered session cookie is refused", func(t *testing.T) {
		b := f.signIn("alice")
		u, _ := url.Parse(f.srv.URL)
		ck := b.c.Jar.Cookies(u)[0]
		payload, sig, _ := strings.Cut(ck.Value, ".")
		forged := b64([]byte(`{"n":"ci","x":9999999999,"s":"abcdefabcdefabcdef"}`)) + "." + sig
		require.NotEqual(t, payload, forged)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: forged, Path: "/"}})
		resp, _ := b.get("/")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	})
	t.Run("expired session is refused", func(t *testing.T) {
		b := f.browser()
		u, _ := url.Parse(f.srv.URL)
		old := f.mon.seal(purposeSession, claim{Name: "alice", Exp: time.Now().Add(-time.Minute).Unix(), Nonce: nonce()})
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: old, Path: "/"}})
		resp, _ := b.get("/")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	})
	t.Run("removed identity loses its session", func(t *testing.T) {
		b := f.browser()
		u, _ := url.Parse(f.srv.URL)
		gone := f.mon.seal(purposeSession, claim{Name: "mallory", Exp: time.Now().Add(time.Hour).Unix(), Nonce: nonce()})
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: gone, Path: "/"}})
		resp, _ := b.get("/")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	})
}

func TestMonitor_loginToken(t *testing.T) {
	f := newFixture(t)
	t.Run("good token sets a strict http-only cookie", func(t *testing.T) {
		b := f.browser()
		_, body := b.get("/login?next=/jobs/x")
		resp, _ := b.post("/login", url.Values{"csrf": {csrfIn(t, body)}, "token": {" tok-alice "}, "next": {"/jobs/x"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/jobs/x", resp.Header.Get("Location"))
		var ck *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				ck = c
			}
		}
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		require.False(t, ck.Secure, "plain http test server")
		require.Greater(t, ck.MaxAge, 3600)
		_, page := b.get("/")
		require.Contains(t, page, `<span class="who">alice</span>`)
	})
	for _, tc := range []struct {
		name, token, csrf string
		status            int
		want              string
	}{
		{"bad token", "tok-mallory", "", http.StatusUnauthorized, "That token is not valid."},
		{"empty token", "", "", http.StatusUnauthorized, "That token is not valid."},
		{"forged csrf", "tok-alice", "forged", http.StatusForbidden, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser()
			_, body := b.get("/login")
			csrf := tc.csrf
			if csrf == "" {
				csrf = csrfIn(t, body)
			}
			resp, page := b.post("/login", url.Values{"csrf": {csrf}, "token": {tc.token}})
			require.Equal(t, tc.status, resp.StatusCode)
			require.Contains(t, page, tc.want)
			for _, c := range resp.Cookies() {
				require.NotEqual(t, sessionCookie, c.Name)
			}
		})
	}
	t.Run("next stays on this site", func(t *testing.T) {
		for _, next := range []string{"https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)",
			"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\x00/evil.example", "/\x7f/evil.example", ""} {
			require.Equal(t, "/", safeNext(next), "%q", next)
		}
		require.Equal(t, "/jobs/a?x=1", safeNext("/jobs/a?x=1"))
		require.Equal(t, "/jobs/a%09b", safeNext("/jobs/a%09b"))
	})
	t.Run("a signed-in browser is not sent off site", func(t *testing.T) {
		b := f.signIn("alice")
		for _, next := range []string{"/\t/evil.example", "/\n/evil.example"} {
			resp, _ := b.get("/login?next=" + url.QueryEscape(next))
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			require.Equal(t, "/", resp.Header.Get("Location"), "%q", next)
		}
	})
	t.Run("https public url makes the cookie secure", func(t *testing.T) {
		m, err := New(Config{Service: f.svc, Authenticate: f.mon.cfg.Authenticate, Identity: f.mon.cfg.Identity,
			SessionKey: f.mon.cfg.SessionKey, PublicURL: "https://cla.example/"})
		require.NoError(t, err)
		req := httptestRequest(t, http.MethodGet, "/")
		require.True(t, m.cookie(req, sessionCookie, "v", time.Now().Add(time.Hour)).Secure)
		require.Equal(t, "https://cla.example/login/", m.LoginLink(f.id("bob"))[:len("https://cla.example/login/")])
	})
}

func TestMonitor_logout(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("alice")
	resp, _ := b.act("/logout", url.Values{"csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = b.act("/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))
	resp, _ = b.get("/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestMonitor_LoginLink(t *testing.T) {
	f := newFixture(t)
	link := f.mon.LoginLink(f.id("bob"))
	require.True(t, strings.HasPrefix(link, f.srv.URL+"/login/"), link)
	path := strings.TrimPrefix(link, f.srv.URL)

	b := f.browser()
	resp, body := b.get(path)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Sign in as bob")
	_, again := b.get(path) // opening the link twice uses nothing up
	require.Contains(t, again, "Sign in as bob")

	t.Run("missing login csrf is refused", func(t *testing.T) {
		resp, _ := f.browser().post(path, url.Values{})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
	t.Run("first use signs in", func(t *testing.T) {
		resp, _ := b.post(path, url.Values{"csrf": {csrfIn(t, body)}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		_, page := b.get("/")
		require.Contains(t, page, `<span class="who">bob</span>`)
	})
	t.Run("second use is refused", func(t *testing.T) {
		other := f.browser()
		_, page := other.get(path)
		resp, msg := other.post(path, url.Values{"csrf": {csrfIn(t, page)}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, msg, "already used")
	})
	for name, bad := range map[string]string{
		"tampered":                     path[:len(path)-3] + "abc",
		"expired":                      "/login/" + f.mon.seal(purposeLink, claim{Name: "bob", Exp: time.Now().Add(-time.Second).Unix(), Nonce: "n0123456789abcdef"}),
		"session cookie is not a link": "/login/" + f.mon.seal(purposeSession, claim{Name: "bob", Exp: time.Now().Add(time.Hour).Unix(), Nonce: "n0123456789abcdef"}),
		"garbage":                      "/login/not-a-token",
	} {
		t.Run(name, func(t *testing.T) {
			resp, page := f.browser().get(bad)
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Contains(t, page, "not valid or has expired")
		})
	}
}

func httptestRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
	require.NoError(t, err)
	return req
}

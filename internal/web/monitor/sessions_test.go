package monitor

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// cookieOf returns the browser's session cookie.
func (b *browser) cookieOf() *http.Cookie {
	u, _ := url.Parse(b.f.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.f.t.Fatal("browser has no session cookie")
	return nil
}

// sessionOf is the stored id of the browser's session.
func (b *browser) sessionOf() string {
	c, ok := b.f.mon.open(purposeSession, b.cookieOf().Value)
	require.True(b.f.t, ok)
	return sessionID(c.Nonce)
}

// copyOf is another browser that holds a copy of b's session cookie, as a
// thief who copied it would.
func (b *browser) copyOf() *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(b.f.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: b.cookieOf().Value, Path: "/"}})
	c := *b.c
	c.Jar = jar
	return &browser{f: b.f, c: &c, csrf: b.csrf}
}

// requireSignedOut checks that a browser's cookie no longer opens a page
// (redirect to sign-in) nor a stream (401).
func requireSignedOut(t *testing.T, b *browser, why string) {
	t.Helper()
	resp, _ := b.get("/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, why)
	require.Equal(t, "/login?next=%2F", resp.Header.Get("Location"), why)
	resp, _ = b.get("/jobs/j-1/events")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, why)
}

func requireSignedIn(t *testing.T, b *browser, why string) {
	t.Helper()
	resp, _ := b.get("/")
	require.Equal(t, http.StatusOK, resp.StatusCode, why)
}

func TestMonitor_LogoutRevokesCopiedCookie(t *testing.T) {
	f := newFixture(t)
	f.createJob("j-1", "Deploy", nil)
	b := f.signIn("alice")
	thief, sid := b.copyOf(), b.sessionOf()
	requireSignedIn(t, thief, "a copied cookie works while the session lives")

	resp, _ := b.act("/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	requireSignedOut(t, thief, "logout must revoke the session, not only clear this browser's cookie")
	resp, _ = thief.act("/jobs/j-1/annotations", url.Values{"kind": {"comment"}, "text": {"after logout"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "a form posted with the old cookie is refused")
	require.Len(t, f.job("j-1").Annotations, 0, "and changes nothing")
	_, err := f.svc.Store().GetSession(context.Background(), sid)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "the store no longer holds it")
}

func TestMonitor_Sessions(t *testing.T) {
	f := newFixture(t)
	f.createJob("j-1", "Deploy", nil)
	laptop, phone := f.signIn("alice"), f.signIn("alice")
	bob := f.signIn("bob")

	t.Run("lists the identity's own sessions", func(t *testing.T) {
		resp, body := laptop.get("/sessions")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, "Your sessions")
		require.Contains(t, body, laptop.sessionOf())
		require.Contains(t, body, phone.sessionOf())
		require.NotContains(t, body, bob.sessionOf(), "another identity's sessions are not shown")
		require.Contains(t, body, "(this browser)")
		require.Contains(t, body, "127.0.0.1", "the address it signed in from")
		require.Contains(t, body, "Go-http-client", "the browser's user agent")
	})
	t.Run("others may not see or revoke them", func(t *testing.T) {
		resp, _ := bob.get("/sessions?identity=alice")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, _ = bob.act("/sessions/revoke", url.Values{"id": {phone.sessionOf()}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, _ = bob.act("/sessions/revoke-all", url.Values{"identity": {"alice"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, _ = bob.post("/sessions/revoke", url.Values{"id": {phone.sessionOf()}, "csrf": {"forged"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "CSRF still applies")
		requireSignedIn(t, phone, "refused attempts change nothing")
	})
	t.Run("revoking another of one's sessions signs that browser out", func(t *testing.T) {
		resp, _ := laptop.act("/sessions/revoke", url.Values{"id": {phone.sessionOf()}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/sessions?done=revoked", resp.Header.Get("Location"))
		requireSignedOut(t, phone, "a revoked session")
		requireSignedIn(t, laptop, "the revoking browser stays signed in")
		_, body := laptop.get("/sessions?done=revoked")
		require.Contains(t, body, "The session was revoked")
		require.NotContains(t, body, phone.sessionOf())
	})
	t.Run("an unknown session id", func(t *testing.T) {
		resp, _ := laptop.act("/sessions/revoke", url.Values{"id": {"nope"}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestMonitor_AdminRevokesAllSessions(t *testing.T) {
	f := newFixture(t)
	f.createJob("j-1", "Deploy", nil)
	a1, a2, bob := f.signIn("alice"), f.signIn("alice"), f.signIn("bob")
	admin := f.signIn("ci")

	resp, body := admin.get("/sessions?identity=alice")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Sessions of alice")
	require.Contains(t, body, a1.sessionOf())
	require.Contains(t, body, a2.sessionOf())

	resp, _ = admin.act("/sessions/revoke-all", url.Values{"identity": {"alice"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/sessions?done=revoked-all&identity=alice", resp.Header.Get("Location"))
	requireSignedOut(t, a1, "admin revoked all of alice's sessions")
	requireSignedOut(t, a2, "admin revoked all of alice's sessions")
	requireSignedIn(t, bob, "other identities keep theirs")
	requireSignedIn(t, admin, "and so does the admin")

	t.Run("one's own revoke-all signs out here too", func(t *testing.T) {
		resp, _ := bob.act("/sessions/revoke-all", url.Values{})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/login", resp.Header.Get("Location"))
		requireSignedOut(t, bob, "bob revoked all his own sessions")
	})
}

func TestMonitor_SessionLifetime(t *testing.T) {
	f := newFixture(t)
	f.createJob("j-1", "Deploy", nil)
	ctx := context.Background()
	st := f.svc.Store()
	t.Run("expired sessions are pruned at the next sign-in", func(t *testing.T) {
		past := time.Now().Add(-time.Hour).UTC()
		require.NoError(t, st.PutSession(ctx, jobs.Session{ID: "old", Identity: "carol", CreatedAt: past.Add(-time.Hour), LastSeen: past, ExpiresAt: past}))
		f.signIn("alice")
		_, err := st.GetSession(ctx, "old")
		require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	})
	t.Run("the stored expiry is enforced whatever the cookie says", func(t *testing.T) {
		b := f.signIn("alice")
		s, err := st.GetSession(ctx, b.sessionOf())
		require.NoError(t, err)
		s.ExpiresAt = time.Now().Add(-time.Second)
		require.NoError(t, st.PutSession(ctx, s))
		requireSignedOut(t, b, "the session expired server-side")
	})
	t.Run("an identity's oldest sessions beyond the cap are revoked", func(t *testing.T) {
		f.mon.cfg.MaxSessions = 2
		first := f.signIn("bob")
		second, third := f.signIn("bob"), f.signIn("bob")
		requireSignedOut(t, first, "the oldest of three with a cap of two")
		requireSignedIn(t, second, "within the cap")
		requireSignedIn(t, third, "within the cap")
		list, err := st.ListSessions(ctx, "bob")
		require.NoError(t, err)
		require.Len(t, list, 2)
	})
	t.Run("last seen moves, at most once a minute", func(t *testing.T) {
		b := f.signIn("carol")
		s, err := st.GetSession(ctx, b.sessionOf())
		require.NoError(t, err)
		s.LastSeen = s.LastSeen.Add(-time.Hour)
		require.NoError(t, st.PutSession(ctx, s))
		requireSignedIn(t, b, "a page view")
		got, err := st.GetSession(ctx, b.sessionOf())
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), got.LastSeen, time.Minute, "the page view refreshed last seen")
	})
}

// TestMonitor_SessionsBrowser: in Chromium, the Sessions page lists this
// browser and another one, revokes the other (which is then signed out)
// and signs this one out from its own row.
func TestMonitor_SessionsBrowser(t *testing.T) {
	ctx := newChromium(t, 1280, 900)
	f := newFixture(t)
	f.createJob("j-1", "Deploy", nil)
	other := f.signIn("alice")
	require.NoError(t, chromedp.Do(ctx,
		signInBrowser(f, "alice"),
		chromedp.Click(css(`a[href="/sessions"]`)),
		chromedp.WaitVisible(css(`table.sessions tr.current`)),
	))
	require.Contains(t, text(t, ctx, "table.sessions tr.current"), "(this browser)")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(css(`input[value="`+other.sessionOf()+`"] ~ button`)),
		chromedp.WaitVisible(css(`.notice`)),
	))
	require.Contains(t, text(t, ctx, ".notice"), "The session was revoked")
	requireSignedOut(t, other, "revoked from Chromium")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(css(`table.sessions tr.current button`)),
		chromedp.WaitVisible(css("#token")),
	))
	list, err := f.svc.Store().ListSessions(context.Background(), "alice")
	require.NoError(t, err)
	require.Empty(t, list, "both of alice's sessions are gone")
}

// TestMonitor_RevokeEndsOpenStream: a stream opened before its session was
// revoked must not go on carrying the job's log to the revoked browser.
func TestMonitor_RevokeEndsOpenStream(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", actionGate())
	laptop, thief := f.signIn("alice"), f.signIn("alice")
	stream := thief.openStream(t, "/jobs/qa-1/events?after=2&v=9", "")

	resp, _ := laptop.act("/sessions/revoke", url.Values{"id": {thief.sessionOf()}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, err := f.svc.AppendLog(ctx, "qa-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "slack:U1", Via: jobs.ViaSlack,
		Text: "secret after revoke", Key: "m1"}})
	require.NoError(t, err)
	select {
	case ev, ok := <-stream:
		require.False(t, ok, "the revoked session's stream must end, not send %+v", ev)
	case <-time.After(60 * time.Second):
		t.Fatal("the revoked session's stream is still open")
	}
}

// lateRevoke is the session store with a hook that runs once, right after
// a session read answered: the moment a revocation can land between a
// stream's session check and its next read.
type lateRevoke struct {
	jobs.SessionStore
	mu   sync.Mutex
	hook func()
}

func (l *lateRevoke) GetSession(ctx context.Context, id string) (jobs.Session, error) {
	s, err := l.SessionStore.GetSession(ctx, id)
	l.mu.Lock()
	hook := l.hook
	l.hook = nil
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	return s, err
}

// TestMonitor_RevokeBetweenCheckAndRead: a session revoked, and a log entry
// appended, just after a stream found its session live must still not
// reach that stream (it used to check, then read and send what was written
// after the revocation).
func TestMonitor_RevokeBetweenCheckAndRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", actionGate())
	thief := f.signIn("alice")
	sid := thief.sessionOf()
	late := &lateRevoke{SessionStore: f.mon.sessions}
	f.mon.sessions = late
	stream := thief.openStream(t, "/jobs/qa-1/events?after=2&v=9", "")

	revoked := make(chan error, 1)
	late.mu.Lock()
	late.hook = func() {
		err := late.SessionStore.DeleteSession(ctx, sid)
		if err == nil {
			_, err = f.svc.AppendLog(ctx, "qa-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "slack:U1", Via: jobs.ViaSlack,
				Text: "secret after revoke", Key: "m1"}})
		}
		revoked <- err
	}
	late.mu.Unlock()
	f.svc.Broker().Wake("qa-1") // a parked stream checks its session again
	require.NoError(t, recvWithin(t, revoked))
	select {
	case ev, ok := <-stream:
		require.False(t, ok, "the revoked session's stream must end, not send %+v", ev)
	case <-time.After(60 * time.Second):
		t.Fatal("the revoked session's stream is still open")
	}
}

// recvWithin takes the next value from ch, failing after a deadline far
// above what a loaded machine needs.
func recvWithin[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatal("nothing received within 60s")
		panic("unreachable")
	}
}

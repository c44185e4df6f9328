package monitor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cla-ops/cla/jobs"
)

// Cookie names. The session cookie carries a signed claim; the login cookie
// only a random nonce that ties the sign-in forms' CSRF token to a browser.
const (
	sessionCookie = "cla_session"
	loginCookie   = "cla_login"
)

// Purposes separate the HMACs so that a value signed for one use is never
// accepted for another.
const (
	purposeSession = "session"
	purposeLink    = "login-link"
	purposeCSRF    = "csrf"
	purposeLogin   = "login-csrf"
)

// claim is what a session cookie or a login link says: who, until when, and
// a random nonce (the session's CSRF secret, the link's single-use key).
type claim struct {
	Name  string `json:"n"`
	Exp   int64  `json:"x"`
	Nonce string `json:"s"`
}

// viewer is the signed-in person of one request.
type viewer struct {
	jobs.Identity
	CSRF string
	// Session is the id of the session this request came with.
	Session string
}

type viewerKey struct{}

func viewerOf(ctx context.Context) viewer {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v
}

func (m *Monitor) mac(purpose string, data []byte) []byte {
	h := hmac.New(sha256.New, m.cfg.SessionKey)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// seal signs a claim for one purpose as "<payload>.<mac>", base64url.
func (m *Monitor) seal(purpose string, c claim) string {
	payload, _ := json.Marshal(c)
	return b64(payload) + "." + b64(m.mac(purpose, payload))
}

// open verifies a sealed claim and its expiry.
func (m *Monitor) open(purpose, token string) (claim, bool) {
	var c claim
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return c, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, m.mac(purpose, payload)) {
		return c, false
	}
	if json.Unmarshal(payload, &c) != nil || c.Name == "" || c.Nonce == "" {
		return c, false
	}
	return c, time.Now().Unix() < c.Exp
}

func (m *Monitor) csrfFor(purpose, nonce string) string { return b64(m.mac(purpose, []byte(nonce))) }

func validToken(want, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func nonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return b64(b)
}

// session returns the signed-in viewer of the request, if any. The cookie
// must carry a valid seal AND name a session the store still holds (not
// signed out, revoked or expired): a copied cookie dies with its session.
func (m *Monitor) session(r *http.Request) (viewer, bool) {
	if v, ok := r.Context().Value(viewerKey{}).(viewer); ok {
		return v, true // already checked for this request
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return viewer{}, false
	}
	c, ok := m.open(purposeSession, ck.Value)
	if !ok {
		return viewer{}, false
	}
	sid := sessionID(c.Nonce)
	s, err := m.sessions.GetSession(r.Context(), sid)
	if err != nil {
		if jobs.ErrorCode(err) != jobs.ENOTFOUND {
			m.log.Error("read session", "err", err)
		}
		return viewer{}, false
	}
	now := time.Now()
	if s.Identity != c.Name || !now.Before(s.ExpiresAt) {
		return viewer{}, false
	}
	id, ok := m.cfg.Identity(c.Name)
	if !ok {
		return viewer{}, false
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := m.sessions.TouchSession(r.Context(), sid, now.UTC()); err != nil && jobs.ErrorCode(err) != jobs.ENOTFOUND {
			m.log.Warn("touch session", "err", err)
		}
	}
	return viewer{Identity: id, CSRF: m.csrfFor(purposeCSRF, c.Nonce), Session: sid}, true
}

// sessionLive reports whether a session is still in the store and
// unexpired: a long-lived stream asks it every round, so that revoking a
// session ends the streams it opened too.
func (m *Monitor) sessionLive(ctx context.Context, sid string) bool {
	s, err := m.sessions.GetSession(ctx, sid)
	if err != nil {
		if jobs.ErrorCode(err) != jobs.ENOTFOUND && ctx.Err() == nil {
			m.log.Error("read session", "err", err)
		}
		return false
	}
	return time.Now().Before(s.ExpiresAt)
}

// touchEvery is how stale a session's "last seen" may get: refreshing it on
// every request would make every page view a write.
const touchEvery = time.Minute

// sessionID is the stored name of a session: a digest of the cookie's
// secret nonce, so that the store alone signs nobody in.
func sessionID(nonce string) string {
	sum := sha256.Sum256([]byte("cla session\x00" + nonce))
	return hex.EncodeToString(sum[:])
}

// startSession records a new session for an identity and sets its cookie.
// Expired sessions are pruned here, and an identity's oldest sessions
// beyond MaxSessions are revoked, so the list never grows without bound.
func (m *Monitor) startSession(w http.ResponseWriter, r *http.Request, id jobs.Identity) error {
	now := time.Now()
	exp := now.Add(m.cfg.SessionTTL)
	n := nonce()
	s := jobs.Session{ID: sessionID(n), Identity: id.Name, CreatedAt: now.UTC(), LastSeen: now.UTC(), ExpiresAt: exp.UTC(),
		UserAgent: capText(r.UserAgent(), 200), IP: clientIP(r)}
	if err := m.sessions.PutSession(r.Context(), s); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	m.tidySessions(r.Context(), id.Name, now)
	value := m.seal(purposeSession, claim{Name: id.Name, Exp: exp.Unix(), Nonce: n})
	http.SetCookie(w, m.cookie(r, sessionCookie, value, exp))
	m.clearCookie(w, r, loginCookie)
	m.log.Info("signed in", "identity", id.Name)
	return nil
}

// tidySessions prunes expired sessions and revokes an identity's oldest
// ones beyond the cap. Failures are logged: sign-in goes on.
func (m *Monitor) tidySessions(ctx context.Context, name string, now time.Time) {
	if n, err := m.sessions.PruneSessions(ctx, now); err != nil {
		m.log.Warn("prune sessions", "err", err)
	} else if n > 0 {
		m.log.Info("pruned expired sessions", "count", n)
	}
	list, err := m.sessions.ListSessions(ctx, name)
	if err != nil {
		m.log.Warn("list sessions", "identity", name, "err", err)
		return
	}
	for _, old := range list[min(len(list), m.cfg.MaxSessions):] {
		if err := m.sessions.DeleteSession(ctx, old.ID); err != nil && jobs.ErrorCode(err) != jobs.ENOTFOUND {
			m.log.Warn("revoke oldest session", "identity", name, "err", err)
		}
	}
}

// clientIP is the peer address of a request (proxies' forwarding headers
// are not trusted: anyone can write them).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return capText(r.RemoteAddr, 64)
	}
	return host
}

func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func (m *Monitor) cookie(r *http.Request, name, value string, exp time.Time) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HttpOnly: true, Secure: m.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode}
}

func (m *Monitor) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	c := m.cookie(r, name, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// loginCSRF returns the CSRF token of the sign-in forms, setting the login
// cookie that it is tied to when the browser has none.
func (m *Monitor) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	n := ""
	if ck, err := r.Cookie(loginCookie); err == nil && len(ck.Value) >= 16 {
		n = ck.Value
	} else {
		n = nonce()
		http.SetCookie(w, m.cookie(r, loginCookie, n, time.Now().Add(time.Hour)))
	}
	return m.csrfFor(purposeLogin, n)
}

// checkLoginCSRF verifies a sign-in form's token against the login cookie.
func (m *Monitor) checkLoginCSRF(r *http.Request) bool {
	ck, err := r.Cookie(loginCookie)
	return err == nil && validToken(m.csrfFor(purposeLogin, ck.Value), r.PostFormValue("csrf"))
}

// LoginLink makes a signed, single-use sign-in link for an identity, valid
// for 10 minutes: what `cla web-login` prints so that a person who is signed
// in on the command line opens the monitor without pasting a token.
func (m *Monitor) LoginLink(id jobs.Identity) string {
	c := claim{Name: id.Name, Exp: time.Now().Add(10 * time.Minute).Unix(), Nonce: nonce()}
	return m.cfg.PublicURL + "/login/" + m.seal(purposeLink, c)
}

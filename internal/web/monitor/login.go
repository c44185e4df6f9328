package monitor

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// signedIn wraps a handler that needs a session: without one a page
// redirects to the sign-in form and a stream gets 401. A POST must also
// carry the session's CSRF token, or it is refused with 403 and changes
// nothing.
func (m *Monitor) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		v, ok := m.session(r)
		if !ok {
			m.needLogin(w, r)
			return
		}
		if r.Method == http.MethodPost {
			if err := m.parseForm(w, r); err != nil {
				m.formError(w, r, err)
				return
			}
			if !validToken(v.CSRF, r.PostFormValue("csrf")) {
				m.log.Warn("csrf token refused", "identity", v.Name, "path", r.URL.Path)
				m.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	}
}

// needLogin answers a request without a valid session.
func (m *Monitor) needLogin(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/events") {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	next := safeNext(r.URL.RequestURI())
	if r.Method != http.MethodGet {
		next = "/"
	}
	// A SameSite=Strict cookie is not sent on a navigation from another
	// site (a link in Slack or an email). Hop once through this site so the
	// browser sends it; the second request is same-origin.
	if r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		m.render(w, r, http.StatusOK, "bounce", pageData{Title: "Opening…", Next: next})
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// parseForm reads a POST body within the size cap (a file annotation plus
// room for the other fields).
func (m *Monitor) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, int64(m.cfg.MaxFileBytes)+64<<10)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(int64(m.cfg.MaxFileBytes) + 64<<10)
	}
	return r.ParseForm()
}

func (m *Monitor) formError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		m.errorPage(w, r, http.StatusRequestEntityTooLarge, "That upload is larger than the limit of "+byteSize(m.cfg.MaxFileBytes)+".")
		return
	}
	m.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
}

// loginForm shows the token sign-in form.
func (m *Monitor) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := m.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	m.renderLogin(w, r, http.StatusOK, next, "")
}

func (m *Monitor) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	w.Header().Set("Cache-Control", "no-store")
	m.render(w, r, status, "login", pageData{Title: "Sign in", Next: next, Problem: problem,
		CSRF: m.loginCSRF(w, r)})
}

// loginToken signs in with an API token.
func (m *Monitor) loginToken(w http.ResponseWriter, r *http.Request) {
	if err := m.parseForm(w, r); err != nil {
		m.formError(w, r, err)
		return
	}
	if !m.checkLoginCSRF(r) {
		m.errorPage(w, r, http.StatusForbidden, "This sign-in form has expired. Reload the page and try again.")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	id, ok := m.cfg.Authenticate(strings.TrimSpace(r.PostFormValue("token")))
	m.cfg.Metrics.signIns.WithLabelValues("token", okWord(ok)).Inc()
	if !ok {
		m.log.Info("sign-in refused: bad token")
		m.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not valid.")
		return
	}
	if err := m.startSession(w, r, id); err != nil {
		m.log.Error("sign in", "identity", id.Name, "err", err)
		m.errorPage(w, r, http.StatusInternalServerError, "Something went wrong; try again.")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// linkForm shows a one-time link's confirmation. Opening the link changes
// nothing, so a chat unfurler or a prefetch cannot use it up.
func (m *Monitor) linkForm(w http.ResponseWriter, r *http.Request) {
	c, ok := m.open(purposeLink, r.PathValue("token"))
	if !ok {
		m.errorPage(w, r, http.StatusForbidden, "This sign-in link is not valid or has expired. Run `cla web-login` for a new one.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	m.render(w, r, http.StatusOK, "link", pageData{Title: "Sign in", Name: c.Name, CSRF: m.loginCSRF(w, r)})
}

// linkLogin uses a one-time link: the first use signs in, any later one is
// refused.
func (m *Monitor) linkLogin(w http.ResponseWriter, r *http.Request) {
	if err := m.parseForm(w, r); err != nil {
		m.formError(w, r, err)
		return
	}
	c, ok := m.open(purposeLink, r.PathValue("token"))
	if !ok || !m.checkLoginCSRF(r) {
		m.errorPage(w, r, http.StatusForbidden, "This sign-in link is not valid or has expired. Run `cla web-login` for a new one.")
		return
	}
	fresh, err := m.svc.Store().Once(r.Context(), "weblogin:"+c.Nonce)
	if err != nil {
		m.log.Error("use login link", "err", err)
		m.errorPage(w, r, http.StatusInternalServerError, "Something went wrong; try again.")
		return
	}
	id, known := m.cfg.Identity(c.Name)
	m.cfg.Metrics.signIns.WithLabelValues("link", okWord(fresh && known)).Inc()
	if !fresh || !known {
		m.errorPage(w, r, http.StatusForbidden, "This sign-in link was already used. Run `cla web-login` for a new one.")
		return
	}
	if err := m.startSession(w, r, id); err != nil {
		m.log.Error("sign in", "identity", id.Name, "err", err)
		m.errorPage(w, r, http.StatusInternalServerError, "Something went wrong; try again.")
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session: it is deleted from the store, so a copy of the
// cookie stops working too, then the cookie is cleared in this browser.
func (m *Monitor) logout(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	if err := m.sessions.DeleteSession(r.Context(), v.Session); err != nil && jobs.ErrorCode(err) != jobs.ENOTFOUND {
		m.log.Error("sign out", "identity", v.Name, "err", err)
		m.errorPage(w, r, http.StatusInternalServerError, "Signing out failed; try again.")
		return
	}
	m.log.Info("signed out", "identity", v.Name)
	m.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path of this site
// only. Browsers drop tabs and newlines from a URL and read a backslash as
// a slash, so "/\t/evil.example" would become "//evil.example" (another
// site): any control character or backslash is refused outright.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

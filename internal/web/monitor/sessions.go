package monitor

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// sessionsView is the sessions page: one identity's signed-in browsers.
type sessionsView struct {
	// Identity is whose sessions these are; Own says it is the viewer.
	Identity string
	Own      bool
	// Admin says the viewer may look up and revoke anyone's sessions.
	Admin bool
	Rows  []sessionRow
}

type sessionRow struct {
	jobs.Session
	// Current marks the session of the browser looking at the page.
	Current bool
}

var sessionNotices = map[string]string{
	"revoked":     "The session was revoked: that browser is signed out.",
	"revoked-all": "Every session of this identity was revoked.",
}

// sessionList shows the viewer's sessions; an admin may name another
// identity with ?identity=.
func (m *Monitor) sessionList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	name := strings.TrimSpace(r.URL.Query().Get("identity"))
	if name == "" {
		name = v.Name
	}
	if name != v.Name && !v.Admin {
		m.errorPage(w, r, http.StatusForbidden, "Only admins may see another identity's sessions.")
		return
	}
	list, err := m.sessions.ListSessions(r.Context(), name)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	now := time.Now()
	view := &sessionsView{Identity: name, Own: name == v.Name, Admin: v.Admin, Rows: []sessionRow{}}
	for _, s := range list {
		if now.Before(s.ExpiresAt) {
			view.Rows = append(view.Rows, sessionRow{Session: s, Current: s.ID == v.Session})
		}
	}
	d := page(r, "Sessions")
	d.Sessions = view
	d.Notice = sessionNotices[r.URL.Query().Get("done")]
	m.render(w, r, http.StatusOK, "sessions", d)
}

// revokeSession revokes one session (form field "id"): the viewer's own,
// or, for an admin, anyone's. Revoking the current session signs out.
func (m *Monitor) revokeSession(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	s, err := m.sessions.GetSession(r.Context(), r.PostFormValue("id"))
	if err != nil || (s.Identity != v.Name && !v.Admin) {
		// An unknown id and someone else's look the same to a non-admin.
		m.errorPage(w, r, http.StatusNotFound, "There is no such session: it may have ended already.")
		return
	}
	if err := m.sessions.DeleteSession(r.Context(), s.ID); err != nil && jobs.ErrorCode(err) != jobs.ENOTFOUND {
		m.domainError(w, r, err)
		return
	}
	m.log.Info("session revoked", "identity", s.Identity, "by", v.Name)
	if s.ID == v.Session {
		m.clearCookie(w, r, sessionCookie)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, sessionsURL(v, s.Identity, "revoked"), http.StatusSeeOther)
}

// revokeAll revokes every session of an identity (form field "identity",
// default the viewer). Only admins may name someone else. The viewer's
// own revoke-all includes this browser, which is then signed out.
func (m *Monitor) revokeAll(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	name := strings.TrimSpace(r.PostFormValue("identity"))
	if name == "" {
		name = v.Name
	}
	if name != v.Name && !v.Admin {
		m.errorPage(w, r, http.StatusForbidden, "Only admins may revoke another identity's sessions.")
		return
	}
	n, err := m.sessions.DeleteSessions(r.Context(), name)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	m.log.Info("sessions revoked", "identity", name, "count", n, "by", v.Name)
	if name == v.Name {
		m.clearCookie(w, r, sessionCookie)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, sessionsURL(v, name, "revoked-all"), http.StatusSeeOther)
}

func sessionsURL(v viewer, name, done string) string {
	q := url.Values{"done": {done}}
	if name != v.Name {
		q.Set("identity", name)
	}
	return "/sessions?" + q.Encode()
}

package sandbox

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// asCookie remembers which sandbox person this browser acts as. It is a
// choice among the seeded people, not a credential: an unknown value is
// ignored.
const asCookie = "cla_sandbox_as"

// viewer is the signed-in person of one request and who they act as.
type viewer struct {
	jobs.Identity
	CSRF string
	As   Person
}

type viewerKey struct{}

func viewerOf(ctx context.Context) viewer {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v
}

// signedIn wraps a handler that needs the monitor's sign-in: without it a
// page redirects to the sign-in form and a stream gets 401. A POST must
// carry the session's CSRF token, or it is refused with 403 and changes
// nothing.
func (p *Page) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		id, csrf, ok := p.cfg.Session(r)
		if !ok {
			p.needLogin(w, r)
			return
		}
		v := viewer{Identity: id, CSRF: csrf, As: actingAs(r)}
		if r.Method == http.MethodPost {
			if err := p.parseForm(w, r); err != nil {
				p.formError(w, r, v, err)
				return
			}
			got := r.PostFormValue("csrf")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
				p.log.Warn("csrf token refused", "identity", id.Name, "path", r.URL.Path)
				p.errorPage(w, r, v, http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again; nothing was changed.")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	}
}

// actingAs reads the switcher's cookie; alice when unset or unknown.
func actingAs(r *http.Request) Person {
	if ck, err := r.Cookie(asCookie); err == nil {
		if pp, ok := PersonByName(ck.Value); ok {
			return pp
		}
	}
	return People[0]
}

// needLogin sends a browser to the monitor's sign-in form, back here after.
func (p *Page) needLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || strings.HasSuffix(r.URL.Path, "/events") {
		http.Error(w, "sign in first: open /login", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
}

// parseForm reads a POST body within its cap: a file plus room for the
// other fields, or a plain form.
func (p *Page) parseForm(w http.ResponseWriter, r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, int64(p.cfg.MaxFileBytes)+maxFormBytes)
		return r.ParseMultipartForm(int64(p.cfg.MaxFileBytes) + maxFormBytes)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm()
}

func (p *Page) formError(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		p.errorPage(w, r, v, http.StatusRequestEntityTooLarge, "That is too large: a message may have 40,000 characters and a file "+sizeText(p.cfg.MaxFileBytes)+". Nothing was changed.")
		return
	}
	p.errorPage(w, r, v, http.StatusBadRequest, "The form could not be read; nothing was changed.")
}

// actAs switches the person this browser acts as.
func (p *Page) actAs(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	name := r.PostFormValue("user")
	pp, ok := PersonByName(name)
	if !ok {
		p.errorPage(w, r, v, http.StatusBadRequest, "There is no sandbox person called “"+name+"”: choose "+personNames()+". You still act as "+v.As.Name+".")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: asCookie, Value: pp.Name, Path: "/sandbox", HttpOnly: true,
		Secure: r.TLS != nil || strings.HasPrefix(p.cfg.PublicURL, "https://"), SameSite: http.SameSiteStrictMode,
		Expires: time.Now().Add(30 * 24 * time.Hour)})
	http.Redirect(w, r, backTo(r), http.StatusSeeOther)
}

func personNames() string {
	names := make([]string, len(People))
	for i, pp := range People {
		names[i] = pp.Name
	}
	return strings.Join(names, ", ")
}

// backTo is where a form returns: its "back" field when it is a sandbox
// path, else #general.
func backTo(r *http.Request) string {
	b := r.PostFormValue("back")
	if strings.HasPrefix(b, "/sandbox") && !strings.ContainsAny(b, "\\\r\n\t") && !strings.HasPrefix(b, "//") {
		if u, err := url.Parse(b); err == nil && u.Host == "" && u.Scheme == "" {
			return b
		}
	}
	return "/sandbox/c/" + ChannelGeneral
}

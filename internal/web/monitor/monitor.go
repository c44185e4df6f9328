// Package monitor is cla's web job monitor: server-rendered pages where a
// signed-in person sees every job and acts on any gate from a browser. It
// calls the same *jobs.Service as Slack and the API, so every check (who may
// resolve, evidence, first resolution wins) is the domain's, and it records
// via=web. Pages are html/template with embedded CSS and one small
// hand-written script for live updates; there is no JavaScript build step.
package monitor

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
)

//go:embed assets templates
var files embed.FS

// Config is what the monitor needs from the wiring in cmd/cla and web.
type Config struct {
	// Service is the one domain service; every page reads and acts through it.
	Service *jobs.Service
	// Authenticate maps an API token to its identity (the API layer's check),
	// so that a person signs in with the token they already have.
	Authenticate func(token string) (jobs.Identity, bool)
	// Identity re-reads an identity by name on every request, so a changed
	// group or a removed identity takes effect without new sessions.
	Identity func(name string) (jobs.Identity, bool)
	// SessionKey signs session cookies, CSRF tokens and login links; at
	// least 32 bytes. Keep it stable across restarts to keep sessions.
	SessionKey []byte
	// PublicURL is where browsers reach cla, used in login links and to
	// decide whether cookies are Secure (https).
	PublicURL string
	// Logger receives the monitor's logs; nil discards them.
	Logger *slog.Logger
	// MaxFileBytes caps an uploaded file annotation; it should match the
	// service's limit (1 MiB by default).
	MaxFileBytes int
	// SessionTTL is how long a sign-in lasts; 12 hours by default.
	SessionTTL time.Duration
	// SendTimeout cuts off a download whose client takes none of the next
	// chunk for this long (limits.sendTimeout; web.DefaultSendTimeout when 0).
	SendTimeout time.Duration
	// MarkdownBytes is the longest gate description shown as Markdown;
	// a longer one is shown as plain text (DefaultMarkdownBytes when 0).
	MarkdownBytes int
	// MaxSessions caps one identity's live sessions; signing in beyond it
	// revokes the oldest. 20 by default.
	MaxSessions int
	// Banner, when set, is a line shown at the top of every page with a
	// link to BannerLink (the sandbox Slack says "sandbox" this way).
	Banner     string
	BannerLink string
	// Metrics counts streams, actions and sign-ins; nil makes an
	// unregistered set.
	Metrics *Metrics
}

// Monitor serves the web monitor. It is an http.Handler meant to be mounted
// at "/" beside the /v1 API.
type Monitor struct {
	cfg Config
	svc *jobs.Service
	// sessions is where sessions live: the service's store, so that every
	// replica sees a sign-out at once.
	sessions jobs.SessionStore
	log      *slog.Logger
	pages    map[string]*template.Template
	mux      *http.ServeMux
	secure   bool
	md       *markdown
	done     chan struct{}
	close    sync.Once
}

// New checks the configuration and builds the monitor.
func New(cfg Config) (*Monitor, error) {
	switch {
	case cfg.Service == nil:
		return nil, errors.New("monitor: Service is required")
	case cfg.Authenticate == nil || cfg.Identity == nil:
		return nil, errors.New("monitor: Authenticate and Identity are required")
	case len(cfg.SessionKey) < 32:
		return nil, errors.New("monitor: SessionKey must be at least 32 bytes")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 20
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, svc: cfg.Service, log: cfg.Logger.With("component", "monitor"), pages: pages,
		secure: strings.HasPrefix(cfg.PublicURL, "https://"), md: newMarkdown(cfg.MarkdownBytes), done: make(chan struct{}),
		sessions: cfg.Service.Store()}
	m.routes()
	return m, nil
}

func (m *Monitor) routes() {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(files, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheFor(http.FileServerFS(assets))))
	mux.HandleFunc("GET /login", m.loginForm)
	mux.HandleFunc("POST /login", m.loginToken)
	mux.HandleFunc("GET /login/{token}", m.linkForm)
	mux.HandleFunc("POST /login/{token}", m.linkLogin)
	mux.HandleFunc("POST /logout", m.signedIn(m.logout))
	mux.HandleFunc("GET /sessions", m.signedIn(m.sessionList))
	mux.HandleFunc("POST /sessions/revoke", m.signedIn(m.revokeSession))
	mux.HandleFunc("POST /sessions/revoke-all", m.signedIn(m.revokeAll))
	mux.HandleFunc("GET /{$}", m.signedIn(m.list))
	mux.HandleFunc("GET /jobs/{id}", m.signedIn(m.job))
	mux.HandleFunc("GET /jobs/{id}/events", m.signedIn(m.events))
	mux.HandleFunc("GET /jobs/{id}/files/{seq}", m.signedIn(m.file))
	mux.HandleFunc("POST /jobs/{id}/resolve", m.signedIn(m.resolve))
	mux.HandleFunc("POST /jobs/{id}/checklist", m.signedIn(m.checklist))
	mux.HandleFunc("POST /jobs/{id}/annotations", m.signedIn(m.annotate))
	mux.HandleFunc("/", m.notFound)
	m.mux = mux
}

// ServeHTTP implements http.Handler with the monitor's security headers.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	m.mux.ServeHTTP(w, r)
}

// Close ends every live stream and refuses new ones (204, which tells
// EventSource not to reconnect), so that http.Server.Shutdown does not wait
// for open pages: register it with srv.RegisterOnShutdown(m.Close).
func (m *Monitor) Close() {
	m.close.Do(func() { close(m.done) })
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

func (m *Monitor) notFound(w http.ResponseWriter, r *http.Request) {
	m.errorPage(w, r, http.StatusNotFound, "There is no page at this address.")
}

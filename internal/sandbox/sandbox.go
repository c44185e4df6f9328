// Package sandbox is the Slack in the browser that `cla serve` offers
// when it has no Slack tokens: a Slack-like page at /sandbox over the
// slackemu emulator the bot is connected to. Every post, click, modal
// submission and slash command goes through the emulator's own helpers,
// the ones the tests use, so the bot cannot tell the page from Slack.
//
// The page is server-rendered html/template with one small hand-written
// script for live updates (Server-Sent Events, as the web monitor does)
// and confirm dialogs; there is no build step. Sign-in is the web
// monitor's: the page asks the monitor who is signed in and checks the
// session's CSRF token on every form.
package sandbox

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
	"github.com/cla-ops/cla/slackemu"
)

//go:embed templates assets
var files embed.FS

// Limits with their defaults.
const (
	// MaxMessageRunes is Slack's limit on a typed message.
	MaxMessageRunes = 40000
	// DefaultMaxFileBytes caps an uploaded file.
	DefaultMaxFileBytes = 1 << 20
	// maxFormBytes caps a form without a file.
	maxFormBytes = 256 << 10
	// keepRecords is how many calls, envelopes and ephemerals Trim keeps.
	keepRecords = 2000
)

// Session says who is signed in on a request and the CSRF token their
// forms must carry; the web monitor's Viewer does this.
type Session func(r *http.Request) (id jobs.Identity, csrf string, ok bool)

// Config is what the page needs from the wiring in cmd/cla.
type Config struct {
	// Emulator is the sandbox workspace the bot is connected to.
	Emulator *slackemu.Emulator
	// Service creates the demo jobs.
	Service *jobs.Service
	// Session is the web monitor's sign-in.
	Session Session
	// Authenticate maps an API token to its identity, for
	// POST /sandbox/api/demo (what `cla sandbox demo` calls).
	Authenticate func(token string) (jobs.Identity, bool)
	// StatePath is where the workspace is saved (a JSON snapshot written
	// durably after changes); "" keeps it in memory only.
	StatePath string
	// PublicURL is cla's base URL, for links in answers.
	PublicURL string
	// Logger receives the page's logs; nil discards them.
	Logger *slog.Logger
	// MaxFileBytes caps an upload; DefaultMaxFileBytes when zero.
	MaxFileBytes int
	// SaveEvery bounds how often the snapshot is written (default 1s).
	SaveEvery time.Duration
}

// Page serves /sandbox. It is an http.Handler; Run keeps the workspace
// saved and the demo pipeline moving.
type Page struct {
	cfg   Config
	emu   *slackemu.Emulator
	svc   *jobs.Service
	log   *slog.Logger
	tmpl  *template.Template
	mux   *http.ServeMux
	demo  *demo
	done  chan struct{}
	close sync.Once

	mu     sync.Mutex
	drafts map[string]draft // view id → what was typed and the errors shown
}

// draft is a modal's typed values and field errors between submissions.
type draft struct {
	Values map[string]string // form field name → value
	Errors map[string]string // block id → error
}

// New checks the configuration and builds the page.
func New(cfg Config) (*Page, error) {
	switch {
	case cfg.Emulator == nil || cfg.Service == nil:
		return nil, errors.New("sandbox: Emulator and Service are required")
	case cfg.Session == nil:
		return nil, errors.New("sandbox: Session is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = time.Second
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	t, err := template.New("sandbox").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Page{cfg: cfg, emu: cfg.Emulator, svc: cfg.Service, log: cfg.Logger.With("component", "sandbox"),
		tmpl: t, done: make(chan struct{}), drafts: map[string]draft{}}
	p.demo = newDemo(p)
	p.routes()
	return p, nil
}

func (p *Page) routes() {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(files, "assets")
	mux.Handle("GET /sandbox/assets/", http.StripPrefix("/sandbox/assets/", cacheFor(http.FileServerFS(assets))))
	mux.HandleFunc("GET /sandbox", p.signedIn(p.home))
	mux.HandleFunc("GET /sandbox/{$}", p.signedIn(p.home))
	mux.HandleFunc("GET /sandbox/home", p.signedIn(p.appHome))
	mux.HandleFunc("GET /sandbox/c/{name}", p.signedIn(p.channel))
	mux.HandleFunc("GET /sandbox/files/{id}", p.signedIn(p.file))
	mux.HandleFunc("GET /sandbox/events", p.signedIn(p.events))
	mux.HandleFunc("POST /sandbox/as", p.signedIn(p.actAs))
	mux.HandleFunc("POST /sandbox/c/{name}/post", p.signedIn(p.post))
	mux.HandleFunc("POST /sandbox/c/{name}/edit", p.signedIn(p.edit))
	mux.HandleFunc("POST /sandbox/c/{name}/delete", p.signedIn(p.delete))
	mux.HandleFunc("POST /sandbox/c/{name}/join", p.signedIn(p.join))
	mux.HandleFunc("POST /sandbox/act", p.signedIn(p.act))
	mux.HandleFunc("POST /sandbox/views/{id}/submit", p.signedIn(p.submit))
	mux.HandleFunc("POST /sandbox/views/{id}/close", p.signedIn(p.closeView))
	mux.HandleFunc("POST /sandbox/demo", p.signedIn(p.startDemo))
	mux.HandleFunc("POST /sandbox/api/demo", p.apiDemo)
	mux.HandleFunc("/sandbox/", p.notFound)
	p.mux = mux
}

// ServeHTTP implements http.Handler with the monitor's security headers
// (images from https are allowed: Block Kit image blocks point there).
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	p.mux.ServeHTTP(w, r)
}

// Close ends live streams (204 tells EventSource not to reconnect).
func (p *Page) Close() { p.close.Do(func() { close(p.done) }) }

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

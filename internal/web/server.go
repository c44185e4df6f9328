// Package web serves cla's HTTP API (/v1, JSON, SPEC §3): jobs, gates and
// their resolution, the job log with a Server-Sent Events stream, signed
// webhook callbacks, health and metrics. The web monitor pages are mounted
// from outside as an http.Handler. Every change goes through jobs.Service.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/prometheus/client_golang/prometheus"
)

// CallbackVerifier checks a signed, expiring webhook callback token and says
// which job and gate it may resolve. The notify package implements it.
type CallbackVerifier interface {
	Verify(token string) (jobID, gateID string, err error)
}

// Config is what the API needs; only Service is required.
type Config struct {
	Service *jobs.Service
	// Keyring authenticates bearer tokens; without credentials every /v1
	// request is refused.
	Keyring *Keyring
	Logger  *slog.Logger
	// Callbacks verifies webhook callback tokens; nil disables
	// POST /v1/callbacks/{token} (404).
	Callbacks CallbackVerifier
	// ReloadTalkback re-reads the TalkBack allowlist (admin only); nil means
	// TalkBack is not configured (404).
	ReloadTalkback func() error
	// Monitor, if set, serves every path outside /v1 and the health and
	// metrics endpoints (the web monitor pages).
	Monitor http.Handler
	// LoginLink makes a one-time sign-in link to the monitor for an
	// identity (POST /v1/web-login, what `cla web-login` prints); nil
	// disables the route (404).
	LoginLink func(jobs.Identity) string
	// Slack says how Slack is connected, for /healthz: "sandbox" (the
	// built-in sandbox Slack), "slack" or "off"; "" leaves it out.
	Slack string
	// MaxBody caps request bodies; 1 MiB by default. Annotations may be
	// half as large again (a base64 file).
	MaxBody int64
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// before it closes what is left; 5s by default, to exit within 10s of
	// SIGTERM.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout cuts off a client whose request headers stall;
	// DefaultReadHeaderTimeout when zero.
	ReadHeaderTimeout time.Duration
	// BodyTimeout cuts off a client whose request body stalls;
	// DefaultBodyTimeout when zero. Long-polls and streams are unaffected.
	BodyTimeout time.Duration
	// SendTimeout cuts off a client that takes none of a file download's
	// next chunk for this long; DefaultSendTimeout when zero.
	SendTimeout time.Duration
	// MaxConnsPerClient caps the open connections of one IP address;
	// DefaultMaxConnsPerClient when zero.
	MaxConnsPerClient int
	// Registry receives the API's metrics and is what GET /metrics serves
	// (cmd/cla passes the one registry every component registers in); nil
	// makes a registry of the API's own.
	Registry *prometheus.Registry
}

// Server is the HTTP API. It is an http.Handler; Run serves it on a
// listener until a context ends.
type Server struct {
	registry    *prometheus.Registry
	metrics     *metrics
	svc         *jobs.Service
	keys        *Keyring
	log         *slog.Logger
	verifier    CallbackVerifier
	reload      func() error
	login       func(jobs.Identity) string
	maxBody     int64
	grace       time.Duration
	hdrTime     time.Duration
	bodyTimeout time.Duration
	sendTimeout time.Duration
	maxConns    int
	slack       string
	mux         *http.ServeMux
	handler     http.Handler
	// stopping ends when shutdown starts: long-polls and log streams
	// return so that in-flight requests can finish.
	stopping context.Context
	stop     context.CancelFunc
}

// New builds the API server.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, keys: cfg.Keyring, log: cfg.Logger, verifier: cfg.Callbacks,
		reload: cfg.ReloadTalkback, login: cfg.LoginLink, maxBody: cfg.MaxBody, grace: cfg.ShutdownTimeout,
		hdrTime: cfg.ReadHeaderTimeout, bodyTimeout: cfg.BodyTimeout, sendTimeout: cfg.SendTimeout, maxConns: cfg.MaxConnsPerClient,
		slack: cfg.Slack, mux: http.NewServeMux()}
	s.stopping, s.stop = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "web")
	if s.maxBody <= 0 {
		s.maxBody = defaultMaxBody
	}
	if s.grace <= 0 {
		s.grace = 5 * time.Second
	}
	if s.hdrTime <= 0 {
		s.hdrTime = DefaultReadHeaderTimeout
	}
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = DefaultBodyTimeout
	}
	if s.sendTimeout <= 0 {
		s.sendTimeout = DefaultSendTimeout
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConnsPerClient
	}
	s.registry = cfg.Registry
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.registry)
	s.routes(cfg.Monitor)
	s.handler = s.bodyDeadline(s.instrument(s.mux))
	return s
}

func (s *Server) routes(monitor http.Handler) {
	m := s.mux
	m.HandleFunc("GET /healthz", s.health)
	m.Handle("GET /metrics", s.metricsHandler())
	m.HandleFunc("GET /v1/whoami", s.auth(s.whoami))
	m.HandleFunc("POST /v1/jobs", s.auth(s.createJob))
	m.HandleFunc("GET /v1/jobs", s.auth(s.listJobs))
	m.HandleFunc("GET /v1/jobs/{id}", s.auth(s.getJob))
	m.HandleFunc("PATCH /v1/jobs/{id}", s.auth(s.progress))
	m.HandleFunc("POST /v1/jobs/{id}/gates", s.auth(s.openGate))
	m.HandleFunc("POST /v1/jobs/{id}/complete", s.auth(s.complete))
	m.HandleFunc("POST /v1/jobs/{id}/approve", s.auth(s.simple(jobs.ActApprove)))
	m.HandleFunc("POST /v1/jobs/{id}/reject", s.auth(s.simple(jobs.ActReject)))
	m.HandleFunc("POST /v1/jobs/{id}/resume", s.auth(s.simple(jobs.ActResume)))
	m.HandleFunc("POST /v1/jobs/{id}/decide", s.auth(s.decide))
	m.HandleFunc("POST /v1/jobs/{id}/reassign", s.auth(s.reassign))
	m.HandleFunc("POST /v1/jobs/{id}/checklist", s.auth(s.checklist))
	m.HandleFunc("POST /v1/jobs/{id}/annotations", s.auth(s.annotate))
	m.HandleFunc("GET /v1/jobs/{id}/annotations/{n}/content", s.auth(s.annotationContent))
	m.HandleFunc("GET /v1/jobs/{id}/log", s.auth(s.jobLog))
	m.HandleFunc("POST /v1/freezes", s.auth(s.createFreeze))
	m.HandleFunc("GET /v1/freezes", s.auth(s.listFreezes))
	m.HandleFunc("DELETE /v1/freezes/{id}", s.auth(s.liftFreeze))
	m.HandleFunc("POST /v1/callbacks/{token}", s.callback)
	m.HandleFunc("POST /v1/talkback/reload", s.auth(s.reloadTalkback))
	m.HandleFunc("POST /v1/web-login", s.auth(s.webLogin))
	m.HandleFunc("/v1/", s.noRoute)
	if monitor != nil {
		m.Handle("/", monitor)
	} else {
		m.HandleFunc("/", s.noRoute)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Run serves on ln until ctx ends, then stops accepting, ends long-polls
// and log streams, and waits (up to the shutdown timeout) for in-flight
// requests to finish.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	// No ReadTimeout: its deadline would also cancel long-polls and log
	// streams (net/http's background read fails and cancels the request).
	// Bodies get their own deadline instead (bodyDeadline).
	srv := &http.Server{Handler: s, ReadHeaderTimeout: s.hdrTime, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newClientLimitListener(ln, s.maxConns, s.log)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	s.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), s.grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// A client too slow to finish within the budget is cut off: the
		// server's own shutdown is not a failure.
		s.log.Warn("closing connections still open after the shutdown timeout", "timeout", s.grace)
		_ = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", serr)
	}
	return nil
}

// Stop ends long-polls and log streams (they answer with what they have).
// Run calls it on shutdown; it is safe to call more than once.
func (s *Server) Stop() { s.stop() }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	body := map[string]string{"status": "ok"}
	if s.slack != "" {
		body["slack"] = s.slack
	}
	writeJSON(w, http.StatusOK, body)
}

// noRoute answers 405 when the path exists with another method, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "/v1/" && pat != "/" && pat != "" {
			w.Header().Set("Allow", m)
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
	}
	s.writeError(w, r, errorf(http.StatusNotFound, jobs.ENOTFOUND, "no such route: %s %s", r.Method, r.URL.Path))
}

// caller is who is making a request and through which door.
type caller struct {
	id  jobs.Identity
	via string
}

// auth requires a bearer token and hands the handler the identity it
// authenticates.
func (s *Server) auth(h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r.Header.Get("Authorization"))
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cla"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, codeUnauthorized, "missing bearer token: send Authorization: Bearer <token>"))
			return
		}
		id, ok := s.keys.Lookup(token)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cla", error="invalid_token"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, codeUnauthorized, "unknown bearer token"))
			return
		}
		h(w, r, caller{id: id, via: viaOf(r)})
	}
}

// viaOf reads the door a client says it is (X-Cla-Via): the CLI and the
// web monitor say so; anything else is the API. Slack, webhook and timeout
// cannot be claimed.
func viaOf(r *http.Request) string {
	switch v := r.Header.Get("X-Cla-Via"); v {
	case jobs.ViaCLI, jobs.ViaWeb:
		return v
	}
	return jobs.ViaAPI
}

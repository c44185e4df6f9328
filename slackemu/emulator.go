// Package slackemu is a faithful local Slack: Socket Mode plus the Web API
// methods the cla bot calls, with simulated humans and assertion helpers.
//
// It exists so tests, benchmarks and a local sandbox can run the bot against
// something the official clients (slack-go/socketmode, @slack/socket-mode,
// @slack/web-api) cannot tell apart from Slack, while staying fully
// inspectable: every Web API call, every envelope and every ack is recorded.
//
// Start one with Start (or NewTest in tests), point the bot's Web API base
// URL at APIURL and give it BotToken and AppToken.
package slackemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Config sets the emulated workspace. Zero values get realistic defaults, so
// Config{} is a valid workspace with one bot and no humans.
type Config struct {
	TeamID     string // default "T0EMU00001"
	TeamDomain string // default "emulated"
	AppID      string // default "A0EMU00001"
	BotUserID  string // the bot's user id, default "U0EMUBOT01"
	BotID      string // the bot's bot id (B…), default "B0EMUBOT01"
	BotName    string // the bot's user name, default "cla"

	// BotToken and AppToken default to fresh random xoxb-/xapp- strings.
	BotToken string
	AppToken string

	// Scopes granted to the bot token; nil grants every scope the emulated
	// methods need (but not chat:write.public). A method needing a scope not
	// listed answers missing_scope with needed/provided.
	Scopes []string

	// RedeliveryDelay is how long an events_api envelope may stay unacked
	// before it is delivered again (Slack: 3 s).
	RedeliveryDelay time.Duration
	// MaxRetries is how many times an unacked event is redelivered (Slack: 3).
	// Negative disables redelivery.
	MaxRetries int
	// TriggerTTL is how long a trigger_id stays valid (Slack: 3 s).
	TriggerTTL time.Duration
	// PingInterval is how often WebSocket ping frames are sent (default 5 s;
	// slack-go gives up after 30 s without one).
	PingInterval time.Duration
	// AckTimeout bounds how long helpers that need an ack (ClickButton,
	// SubmitView, RunSlashCommand) wait when their context has no deadline.
	// Default 10 s: generous, because tests run under -race on busy machines.
	AckTimeout time.Duration
	// DisconnectGrace is how long a connection told to refresh stays open
	// before the emulator closes it (Slack keeps it ~10 s). Default 10 s.
	DisconnectGrace time.Duration

	// MaxFileBytes bounds the total content of shared files the workspace
	// keeps (in memory and in SaveFile's directory): when a newly shared
	// file passes it, the oldest files lose their bytes (a download of one
	// then answers 404, as for a file shared without bytes). Default
	// DefaultMaxFileBytes; negative keeps no bytes at all.
	MaxFileBytes int64

	// RateLimits, when set, are enforced like Slack does (HTTP 429 with
	// Retry-After); SlackTiers() gives Slack's documented tiers. nil (the
	// default) limits nothing, for tests that do not want it.
	RateLimits *RateLimits

	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Emulator is one emulated Slack workspace with its HTTP server. All methods
// are safe for concurrent use.
type Emulator struct {
	cfg  Config
	log  *slog.Logger
	srv  *http.Server
	ln   net.Listener
	base string // "http://127.0.0.1:port"

	kick chan struct{} // wakes the dispatcher
	stop chan struct{} // closed by Close
	done sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool
	state
}

// state is everything guarded by Emulator.mu.
type state struct {
	clock      tsClock
	seq        int
	users      map[string]*User
	userOrder  []string
	groups     map[string]*UserGroup
	groupOrder []string
	channels   map[string]*channel
	chanOrder  []string
	dms        map[string]string // user id -> D… channel id
	ephemerals []Ephemeral
	views      map[string]*View
	viewOrder  []string
	homes      map[string]string // user id -> published home view id
	triggers   map[string]*trigger
	files      map[string]*File
	calls      []Call
	faults     map[string][]*Fault
	buckets    map[string]*bucket // rate limit buckets (Config.RateLimits)
	tickets    map[string]bool
	conns      map[int]*conn
	connSeq    int
	connRR     int
	envs       map[string]*envelope
	envOrder   []string
	queue      []*envelope
	hooks      map[string]*hook
	scopes     map[string]bool
}

// ErrClosed is returned by helpers once the emulator is closed.
var ErrClosed = errors.New("slackemu: emulator closed")

// New builds an emulator that is not yet listening; most callers want Start.
func New(cfg Config) *Emulator {
	cfg = withDefaults(cfg)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Emulator{
		cfg:     cfg,
		log:     log.With("component", "slackemu"),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	e.state = newState(cfg)
	return e
}

// Start listens on addr (use "127.0.0.1:0" in tests) and serves until Close.
func Start(addr string, cfg Config) (*Emulator, error) {
	e := New(cfg)
	if err := e.Listen(addr); err != nil {
		return nil, err
	}
	return e, nil
}

// TB is the part of testing.TB that NewTest needs; it keeps the package free
// of a dependency on package testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTest starts an emulator on 127.0.0.1:0 and closes it when the test ends.
func NewTest(t TB, cfg Config) *Emulator {
	t.Helper()
	e, err := Start("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("start slack emulator: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// Listen binds addr and starts serving in the background.
func (e *Emulator) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	e.ln = ln
	e.base = "http://" + ln.Addr().String()
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second}
	e.done.Add(2)
	go func() {
		defer e.done.Done()
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("serve failed", "err", err)
		}
	}()
	go func() {
		defer e.done.Done()
		e.dispatchLoop()
	}()
	e.log.Debug("listening", "url", e.base)
	return nil
}

// Close stops the server, drops every WebSocket connection and timer, and
// wakes every waiter with ErrClosed.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.stop)
	conns := make([]*conn, 0, len(e.conns))
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	for _, env := range e.envs {
		env.stopTimer()
	}
	e.notifyLocked()
	e.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	var err error
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = e.srv.Shutdown(ctx)
	}
	e.done.Wait()
	return err
}

// routes maps Slack's URL layout onto the emulator.
func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", e.serveAPI)
	mux.HandleFunc("/link/", e.serveSocket)
	mux.HandleFunc("/hooks/", e.serveHook)
	mux.HandleFunc("/files/", e.serveFile)
	mux.HandleFunc("/archives/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("slackemu permalink\n"))
	})
	return mux
}

// URL is the server root, e.g. "http://127.0.0.1:41234".
func (e *Emulator) URL() string { return e.base }

// APIURL is the Web API base to give the clients (slack.OptionAPIURL,
// slackApiUrl, SLACK_API_URL); it ends in "/api/".
func (e *Emulator) APIURL() string { return e.base + "/api/" }

// BotToken is the xoxb- token the bot must present.
func (e *Emulator) BotToken() string { return e.cfg.BotToken }

// AppToken is the xapp- token apps.connections.open accepts.
func (e *Emulator) AppToken() string { return e.cfg.AppToken }

// BotUserID is the bot's own user id (what "<@…>" mentions of the bot carry).
func (e *Emulator) BotUserID() string { return e.cfg.BotUserID }

// BotID is the bot's B… id carried by its messages as bot_id.
func (e *Emulator) BotID() string { return e.cfg.BotID }

// TeamID is the workspace id.
func (e *Emulator) TeamID() string { return e.cfg.TeamID }

// AppID is the app id (api_app_id in payloads).
func (e *Emulator) AppID() string { return e.cfg.AppID }

// Config returns the effective configuration, defaults filled in.
func (e *Emulator) Config() Config { return e.cfg }

// notifyLocked wakes every waiter; callers hold e.mu.
func (e *Emulator) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// waitFor blocks until cond (evaluated under e.mu) holds, ctx ends or the
// emulator closes.
func (e *Emulator) waitFor(ctx context.Context, cond func() bool) error {
	for {
		e.mu.Lock()
		ok, closed, ch := cond(), e.closed, e.changed
		e.mu.Unlock()
		if ok {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ackContext applies AckTimeout when ctx has no deadline of its own.
func (e *Emulator) ackContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, e.cfg.AckTimeout)
}

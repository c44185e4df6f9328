package bot

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
)

// Config wires the bot to the domain and to Slack.
type Config struct {
	// Service is the one door to jobs; required.
	Service *jobs.Service
	// Directory maps Slack users to identities; nil means nobody is
	// configured and every user acts as "slack:<U…>".
	Directory *jobs.Directory
	// AppToken is the xapp- Socket Mode token (connections:write).
	AppToken string
	// BotToken is the xoxb- bot token.
	BotToken string
	// APIURL is the Web API base ending in "/" (SLACK_API_URL); "" is Slack's.
	APIURL string
	// PublicURL is cla's base URL for links to the web monitor.
	PublicURL string
	// Logger receives the bot's logs; nil discards them.
	Logger *slog.Logger
	// Concurrency bounds the handlers running at once (default 16).
	Concurrency int
	// MirrorShards is how many per-channel-ordered mirror workers run
	// (default 8); messages of one channel always go to the same worker.
	MirrorShards int
	// People maps Slack users to identities. Share one Resolver with the
	// gate handlers and TalkBot so they agree on who someone is and share
	// one cache; nil builds one on the bot's client and Directory.
	People *people.Resolver
	// Budget paces every Web API call to Slack's documented rate tiers, so
	// bursts queue instead of drawing 429s; nil uses
	// ratelimit.WithHeadroom(ratelimit.SlackTiers()). Share it with everything that calls Slack
	// with the same token.
	Budget *ratelimit.Budget
	// Transport sends the Web API requests (default: one that keeps up to
	// 32 idle connections to Slack); tests pass their own to close it.
	Transport http.RoundTripper
	// HTTPClient downloads files shared in job channels; nil uses
	// http.DefaultClient (each download is bounded by its own timeout).
	HTTPClient *http.Client
	// UnknownUsers is what Slack users outside Directory may do
	// (slack.unknownUsers); "" is readonly. It is set on the Resolver the
	// bot builds; a Resolver passed in People keeps its own.
	UnknownUsers people.UnknownUsers
	// Metrics counts envelopes, acks and mirrored messages; nil makes an
	// unregistered set (NewMetrics(nil)).
	Metrics *Metrics
	// ShutdownGrace bounds how long Run, once its context ends, waits for
	// requests already acked (a click, a command) to be handled; handlers
	// still running then see their context cancelled (default 10s).
	ShutdownGrace time.Duration
}

// Bot is the Slack adapter. Create it with New, register extra commands
// and routes, then call Run once.
type Bot struct {
	cfg    Config
	svc    *jobs.Service
	api    *slack.Client
	http   *http.Client
	log    *slog.Logger
	people *people.Resolver
	self   selfInfo
	router *router
	mirror *mirror
	tasks  chan task
	// downloads bounds the Slack file downloads running at once; fileWork
	// counts them.
	downloads chan struct{}
	fileWork  sync.WaitGroup
	// pending counts queued and running handlers.
	pending sync.WaitGroup
	workers sync.WaitGroup
	// handlers is the context handlers run in: it outlives Run's context
	// by up to ShutdownGrace (finishHandlers), then stopHandlers ends it.
	handlers     context.Context
	stopHandlers context.CancelFunc
	// taskMu guards tasksClosed: spawns hold it shared, shutdown closes.
	taskMu      sync.RWMutex
	tasksClosed bool
	// handlerWorkers counts the handler workers (workers counts the rest).
	handlerWorkers sync.WaitGroup

	mu       sync.Mutex
	commands map[string]CommandSpec
	order    []string
}

// selfInfo is who the bot is in the workspace, learnt from auth.test.
type selfInfo struct {
	mu     sync.Mutex
	userID string
	botID  string
}

// New builds a bot; it does not touch the network until Run.
func New(cfg Config) (*Bot, error) {
	if cfg.Service == nil {
		return nil, errors.New("bot: Config.Service is required")
	}
	if cfg.AppToken == "" || cfg.BotToken == "" {
		return nil, errors.New("bot: AppToken and BotToken are required")
	}
	if cfg.Directory == nil {
		cfg.Directory = jobs.NewDirectory(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.MirrorShards <= 0 {
		cfg.MirrorShards = 8
	}
	if cfg.Budget == nil {
		cfg.Budget = ratelimit.NewBudget(ratelimit.WithHeadroom(ratelimit.SlackTiers()))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = defaultShutdownGrace
	}
	lg := cfg.Logger.With("component", "bot")
	// Every call is paced and has a deadline: a hung Slack fails the call
	// instead of stalling whoever made it.
	hc := ratelimit.NewClient(cfg.Budget, cfg.Transport)
	opts := []slack.Option{slack.OptionAppLevelToken(cfg.AppToken), slack.OptionHTTPClient(hc),
		slack.OptionLog(slog.NewLogLogger(lg.Handler(), slog.LevelDebug))}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	api := slack.New(cfg.BotToken, opts...)
	b := &Bot{cfg: cfg, svc: cfg.Service, api: api, http: hc, log: lg, tasks: make(chan task, 1024),
		commands: map[string]CommandSpec{}, downloads: make(chan struct{}, maxParallelDownloads)}
	b.handlers, b.stopHandlers = context.WithCancel(context.Background())
	b.people = cfg.People
	if b.people == nil {
		b.people = people.New(api, cfg.Directory, cfg.Logger)
		b.people.SetUnknownUsers(cfg.UnknownUsers)
	}
	b.router = newRouter(b)
	b.mirror = newMirror(b, cfg.MirrorShards)
	for _, c := range builtinCommands(b) {
		b.AddCommand(c)
	}
	return b, nil
}

// Client is the Web API client, for extensions that post on their own.
func (b *Bot) Client() *slack.Client { return b.api }

// HTTPClient is the paced HTTP client of the Web API client, for posts to
// response_url and other Slack endpoints.
func (b *Bot) HTTPClient() *http.Client { return b.http }

// Budget is the rate budget every Web API call of the bot draws from.
func (b *Bot) Budget() *ratelimit.Budget { return b.cfg.Budget }

// People is the bot's Slack user resolver, to hand to gates.Config and
// talkbot.Config so that every Slack handler shares it.
func (b *Bot) People() *people.Resolver { return b.people }

// Service is the jobs service the bot acts through.
func (b *Bot) Service() *jobs.Service { return b.svc }

// Run connects over Socket Mode and serves until ctx ends, reconnecting
// with backoff forever: a dead or misconfigured Slack is logged, never
// returned, so that it cannot stop the rest of the server.
func (b *Bot) Run(ctx context.Context) error {
	b.mirror.start(ctx)
	b.workers.Go(func() { b.relay(ctx) })
	for range b.cfg.Concurrency {
		b.handlerWorkers.Go(b.work)
	}
	wait := backoff{min: 500 * time.Millisecond, max: time.Minute}
	for ctx.Err() == nil {
		connected, err := b.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if connected {
			wait.reset()
		}
		d := wait.next()
		b.log.Warn("slack connection ended; reconnecting", "err", err, "in", d)
		if !ratelimit.Sleep(ctx, d) {
			break
		}
	}
	// No envelope is read any more: finish what was acked.
	b.mirror.wait()
	b.finishHandlers(b.handlerWorkers.Wait)
	b.fileWork.Wait()
	b.workers.Wait()
	return nil
}

// session runs one Socket Mode client until it fails or ctx ends, and
// reports whether it ever connected.
func (b *Bot) session(ctx context.Context) (bool, error) {
	if err := b.learnSelf(ctx); err != nil {
		return false, err
	}
	sm := socketmode.New(b.api, socketmode.OptionLog(log.New(slogWriter{b.log}, "", 0)))
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(sctx) }()
	connected := false
	for {
		select {
		case ev := <-sm.Events:
			if ev.Type == socketmode.EventTypeConnected {
				connected = true
				b.cfg.Metrics.connects.Inc()
				b.log.Info("connected to slack")
			}
			b.receive(ctx, sctx, sm, ev)
		case err := <-done:
			return connected, err
		}
	}
}

// learnSelf asks auth.test who the bot is, once.
func (b *Bot) learnSelf(ctx context.Context) error {
	if b.self.get() != "" {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := b.api.AuthTestContext(actx)
	if err != nil {
		return fmt.Errorf("auth.test: %w", err)
	}
	b.self.mu.Lock()
	b.self.userID, b.self.botID = res.UserID, res.BotID
	b.self.mu.Unlock()
	return nil
}

// get returns the bot's user id ("" until known).
func (s *selfInfo) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID
}

// isSelf reports whether a message author is this bot.
func (s *selfInfo) isSelf(user, botID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return (user != "" && user == s.userID) || (botID != "" && botID == s.botID)
}

// receive turns one socket event into an Incoming and routes it. Acks go
// through the session's client and context; handlers live on ctx.
func (b *Bot) receive(ctx, sctx context.Context, sm *socketmode.Client, ev socketmode.Event) {
	in, ok, err := parseRequest(ev)
	if !ok {
		b.logClientEvent(ev)
		return
	}
	if err != nil {
		b.log.Warn("bad envelope", "envelope", in.EnvelopeID, "err", err)
	}
	ack := func(payload any) {
		if err := sm.AckCtx(sctx, in.EnvelopeID, payload); err != nil {
			b.log.Debug("ack failed", "envelope", in.EnvelopeID, "err", err)
		}
	}
	b.router.route(ctx, in, ack)
}

// logClientEvent logs the socket client's own events worth knowing about.
func (b *Bot) logClientEvent(ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError,
		socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		b.log.Warn("slack socket trouble", "event", string(ev.Type), "data", fmt.Sprint(ev.Data))
	default:
		b.log.Debug("slack socket event", "event", string(ev.Type))
	}
}

// slogWriter sends the socket client's own log lines to slog at debug.
type slogWriter struct{ log *slog.Logger }

// Write implements io.Writer.
func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("socketmode", "msg", string(p))
	return len(p), nil
}

// backoff doubles a wait from min to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	} else if b.cur *= 2; b.cur > b.max {
		b.cur = b.max
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

package main

import (
	"context"
	"fmt"
	"github.com/cla-ops/cla/internal/bot/people"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cla-ops/cla/internal/bot"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/talkbot"
	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/internal/web/monitor"
	"github.com/cla-ops/cla/jobs"
)

// components are the parts of serve around the API: notification
// delivery, TalkBack, the Slack bot and the web monitor. Each optional part
// is built only when configured; runners are started in serve's errgroup.
type components struct {
	cfg       *config.Config
	svc       *jobs.Service
	dir       *jobs.Directory
	keyring   *web.Keyring
	publicURL string
	log       *slog.Logger
	reg       *prometheus.Registry
	ctx       context.Context
	secret    func(ctx context.Context, name, what string) (string, error)

	talkback  *talkback.Registry
	callbacks web.CallbackVerifier
	monitor   http.Handler
	loginLink func(jobs.Identity) string
	notifiers map[jobs.ChannelType]jobs.Notifier
	runners   []func(context.Context) error
	// people resolves Slack users and groups once Slack is connected.
	people *people.Resolver

	sandbox *sandboxRun // nil unless the sandbox Slack runs
	viewer  func(*http.Request) (jobs.Identity, string, bool)
}

func newComponents(ctx context.Context, cfg *config.Config, svc *jobs.Service, dir *jobs.Directory, keyring *web.Keyring, publicURL string,
	secret func(ctx context.Context, name, what string) (string, error), sb *sandboxRun, reg *prometheus.Registry, log *slog.Logger) (*components, error) {
	c := &components{cfg: cfg, svc: svc, dir: dir, keyring: keyring, publicURL: publicURL, log: log, ctx: ctx, secret: secret,
		notifiers: map[jobs.ChannelType]jobs.Notifier{}, sandbox: sb, reg: reg}
	for _, build := range []func() error{c.buildTalkback, c.buildNotify, c.buildSlack, c.buildMonitor, c.buildSandbox} {
		if err := build(); err != nil {
			return nil, err
		}
	}
	outbox := notify.NewOutbox(svc, c.notifiers, log.With("component", "outbox"))
	outbox.SetMetrics(notify.NewMetrics(reg))
	cc := cfg.Notify.Concurrency
	outbox.SetBudgets(notify.Budgets{Webhook: notify.Budget(cc.Webhook), Email: notify.Budget(cc.Email), Slack: notify.Budget(cc.Slack)})
	c.runners = append(c.runners, outbox.Run)
	return c, nil
}

// buildTalkback loads the allowlist; a bad file stops serve with file,
// line and reason. SIGHUP reloads it, keeping the old one if the new is bad;
// without TalkBack a SIGHUP is only logged (it never stops the server).
func (c *components) buildTalkback() error {
	c.talkback = talkback.NewRegistry(nil, c.log.With("component", "talkback"))
	_, templates, _, err := c.cfg.Limits.Limits()
	if err != nil {
		return err
	}
	c.talkback.SetArgvLimits(templates) // argv templates are templates: limits.template* apply
	if c.cfg.Talkback != "" {
		if err := c.talkback.Reload(c.cfg.Talkback); err != nil {
			return fmt.Errorf("talkback allowlist: %w", err)
		}
	}
	// Listen before serve announces itself, so that no SIGHUP is missed
	// (or, unhandled, kills the process).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	c.runners = append(c.runners, func(ctx context.Context) error { return c.reloadOnSIGHUP(ctx, hup) })
	return nil
}

func (c *components) reloadOnSIGHUP(ctx context.Context, hup chan os.Signal) error {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			if c.cfg.Talkback == "" {
				c.log.Info("SIGHUP: nothing to reload (no --talkback allowlist)")
				continue
			}
			_ = c.talkback.Reload(c.cfg.Talkback) // it logs the outcome; a bad file keeps the old list
		}
	}
}

// reloadTalkback is web's reload hook, nil when TalkBack is off.
func (c *components) reloadTalkback() func() error {
	if c.cfg.Talkback == "" {
		return nil
	}
	return func() error { return c.talkback.Reload(c.cfg.Talkback) }
}

// buildNotify configures email and signed webhooks (and their callback
// tokens) when the config file has settings for them.
func (c *components) buildNotify() error {
	if e := c.cfg.Notify.Email; e.Host != "" {
		email, err := notify.NewEmail(notify.EmailConfig{Host: e.Host, Port: e.Port, From: e.From, Username: e.Username,
			Password: string(e.Password), StartTLS: e.StartTLS}, c.publicURL, c.log.With("component", "email"))
		if err != nil {
			return fmt.Errorf("email notifications: %w", err)
		}
		c.notifiers["email"] = email
	}
	if secret := string(c.cfg.Notify.Webhook.Secret); secret != "" {
		cb, err := notify.NewCallbacks(secret, nil)
		if err != nil {
			return fmt.Errorf("webhook callbacks: %w", err)
		}
		guard, err := notify.NewHostGuard(c.cfg.Notify.Webhook.AllowHosts)
		if err != nil {
			return err
		}
		hook, err := notify.NewWebhook(secret, c.publicURL, cb, guard.Client(15*time.Second))
		if err != nil {
			return fmt.Errorf("webhook notifications: %w", err)
		}
		hook.WithLogger(c.log.With("component", "webhook"))
		c.notifiers["webhook"], c.callbacks = hook, cb
	}
	return nil
}

// buildSlack starts the Socket Mode bot when both tokens are set.
func (c *components) buildSlack() error {
	if !c.cfg.Slack.Enabled() {
		c.log.Info("slack is off: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set; the API, web monitor and timers run without it")
		return nil
	}
	b, err := bot.New(bot.Config{Service: c.svc, Directory: c.dir, AppToken: string(c.cfg.Slack.AppToken),
		BotToken: string(c.cfg.Slack.BotToken), APIURL: c.cfg.Slack.APIURL, PublicURL: c.publicURL,
		UnknownUsers: people.UnknownUsers(c.cfg.UnknownUsersPolicy()),
		Logger:       c.log.With("component", "slack"), Metrics: bot.NewMetrics(c.reg)})
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	c.log.Info("slack users outside the config's identities", "unknown_users", c.cfg.UnknownUsersPolicy())
	ppl := b.People() // one Slack user → identity resolver and cache for every Slack part
	c.people = ppl
	gcfg := gates.Config{API: b.Client(), Service: c.svc, Directory: c.dir, People: ppl, PublicURL: c.publicURL,
		Logger: c.log.With("component", "slack-gates"), Budget: b.Budget(), HTTP: b.HTTPClient()}
	// One announcer owns every gate message: the handlers and the outbox's
	// notifier both hand it their changes.
	ann := gates.NewAnnouncer(gcfg)
	gcfg.Announcer = ann
	handler := gates.NewHandler(gcfg)
	var tb *talkbot.Handler
	if c.cfg.Talkback != "" {
		tb = talkbot.New(talkbot.Config{Service: c.svc, Directory: c.dir, People: ppl, Registry: c.talkback, Slack: b.Client(),
			Executor: talkback.NewExecutor(talkback.ExecutorConfig{MaxPerJob: 1, MaxTotal: 4, MaxQueued: c.cfg.Limits.TalkbackQueue, Logger: c.log.With("component", "talkback")}),
			Logger:   c.log.With("component", "slack-talkback"), Metrics: talkbot.NewMetrics(c.reg)})
	}
	b.UseGates(handler, tb)
	c.notifiers["slack"] = gates.NewNotifier(gcfg)
	c.runners = append(c.runners, b.Run, handler.Run, ann.Run)
	return nil
}

// buildMonitor builds the web job monitor, signing its session cookies
// with a key kept next to the bbolt file (or in PostgreSQL, shared by every
// replica) so sessions survive restarts and work on any replica.
func (c *components) buildMonitor() error {
	key, err := c.secret(c.ctx, "session-key", "web session key")
	if err != nil {
		return err
	}
	mc := monitor.Config{Service: c.svc, Authenticate: c.keyring.Lookup, Identity: c.dir.ByName, MaxFileBytes: c.svc.MaxFileBytes(),
		SessionKey: []byte(key), PublicURL: c.publicURL, Logger: c.log.With("component", "monitor"), Metrics: monitor.NewMetrics(c.reg),
		MarkdownBytes: c.cfg.Limits.MarkdownBytes}
	if _, _, wl, err := c.cfg.Limits.Limits(); err == nil {
		mc.SendTimeout = wl.SendTimeout
	}
	if c.sandbox != nil {
		mc.Banner, mc.BannerLink = "This server has no Slack tokens: its Slack is the built-in sandbox.", "/sandbox"
	}
	m, err := monitor.New(mc)
	if err != nil {
		return fmt.Errorf("web monitor: %w", err)
	}
	c.monitor, c.loginLink, c.viewer = m, m.LoginLink, m.Viewer
	// Live pages hold streams open: end them when shutdown starts.
	c.runners = append(c.runners, func(ctx context.Context) error { <-ctx.Done(); m.Close(); return nil })
	return nil
}

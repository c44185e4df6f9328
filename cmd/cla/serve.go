package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

func runServe(ctx context.Context, e *env, args []string) int {
	cfg, code, ok := serveConfig(e, args)
	if !ok {
		return code
	}
	log := newLogger(e, cfg.LogLevel)
	if config.TuneGC(e.getenv) {
		log.Debug("garbage collector target set; GOGC overrides it", "gogc", config.ServerGCPercent)
	}
	if err := serve(ctx, cfg, log, tokenPointer(e.getenv)); err != nil {
		log.Error("serve stopped", "err", err)
		return exitError
	}
	return exitOK
}

// serveConfig parses serve's flags and assembles the configuration
// (package config): defaults → YAML → env → flags → secret files → Validate.
func serveConfig(e *env, args []string) (*config.Config, int, bool) {
	var flags config.Flags
	var configPath string
	fs := newFlags(e, "serve", help{usage: "cla serve [flags]",
		about: "Runs the cla server: the HTTP API (/v1), the web monitor, gate timers, notifications and,\n" +
			"when SLACK_APP_TOKEN and SLACK_BOT_TOKEN are set, the Slack bot (Socket Mode).\n" +
			"Settings come from defaults, then the --config YAML (${ENV} expanded; relative paths in it are\n" +
			"relative to its directory), then the environment (CLA_DB, CLA_STORE, CLA_ADDR, CLA_PUBLIC_URL,\n" +
			"CLA_TALKBACK, CLA_LOG_LEVEL, CLA_SANDBOX, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, SLACK_API_URL), then flags.\n" +
			"Without Slack tokens the bot talks to a built-in sandbox Slack, a Slack-like page at /sandbox\n" +
			"(--sandbox=false turns it off). If no identity has a token, an admin token is created once in\n" +
			"cla.token next to the database (mode 0600). SIGTERM or Ctrl-C stops it cleanly.",
		examples: "  cla serve\n  cla serve --store postgres://cla:…@db.internal:5432/cla\n  cla serve --db /var/lib/cla/cla.db --addr 0.0.0.0:8080 --public-url https://cla.example.com\n" +
			"  CLA_CONFIG=/etc/cla/cla.yaml SLACK_APP_TOKEN=xapp-… SLACK_BOT_TOKEN=xoxb-… cla serve"})
	fs.StringVar(&flags.DB, "db", "", "bbolt database file (env CLA_DB, default cla.db)")
	fs.StringVar(&flags.Store, "store", "", "store: a postgres://… URL (several replicas) or a bbolt file path (env CLA_STORE; default: --db)")
	fs.StringVar(&flags.Addr, "addr", "", "listen address (env CLA_ADDR, default 127.0.0.1:8080; port 0 picks one)")
	fs.StringVar(&flags.PublicURL, "public-url", "", "base URL for links in Slack and email (env CLA_PUBLIC_URL, default http://<addr>)")
	fs.StringVar(&flags.Talkback, "talkback", "", "TalkBack allowlist YAML (env CLA_TALKBACK)")
	fs.StringVar(&flags.LogLevel, "log-level", "", "debug, info, warn or error (env CLA_LOG_LEVEL, default info)")
	fs.StringVar(&configPath, "config", e.getenv("CLA_CONFIG"), "YAML config file (env CLA_CONFIG)")
	fs.Var(&optBool{v: &flags.Sandbox}, "sandbox", "without Slack tokens, run the built-in sandbox Slack at /sandbox (env CLA_SANDBOX, default true)")
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return nil, code, false
	}
	cfg, err := config.LoadFile(configPath, config.WithEnv(e.lookupEnv), config.WithFlags(flags))
	if err != nil {
		e.errorf("serve: %v", err)
		return nil, exitError, false
	}
	return cfg, exitOK, true
}

// serve runs every component until ctx ends: open the store, build the
// service and the components, run them in one errgroup, and on shutdown
// let the HTTP server finish in-flight requests before bbolt is closed.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, pointer string) error {
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	check := &assigneeCheck{}
	limits, tmplLimits, webLimits, err := cfg.Limits.Limits()
	if err != nil {
		return err
	}
	quotas, annotationBytes, err := cfg.Limits.Quotas()
	if err != nil {
		return err
	}
	maintenance, err := cfg.Maintenance.Maintenance()
	if err != nil {
		return err
	}
	opts := jobs.Options{DisableBreakGlass: !cfg.BreakGlass.On(), DefaultChannels: cfg.Notify.DefaultChannels(),
		Limits: limits, TemplateLimits: tmplLimits, Quotas: quotas, MaxFileBytes: annotationBytes,
		RestrictUnassigned: !cfg.Assignees.AnyoneResolvesUnassigned, DefaultAssignees: cfg.Assignees.Default,
		MaxChatFileBytes: cfg.Slack.MaxFileBytes, Logger: log.With("component", "jobs"),
		Markup: slacktext.Markup{AllowBroadcasts: cfg.Slack.AllowBroadcastMentions}}
	if !cfg.Assignees.AllowUnknown {
		opts.Assignees = check
	}
	broker := jobs.NewBroker()
	reg := newRegistry(broker)
	if bolt, ok := db.fullStore.(*store.DB); ok {
		registerStoreMetrics(reg, bolt)
	}
	svc := jobs.NewService(db, broker, opts)
	creds, ids, err := credentials(cfg, pointer, db.listen != nil, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: the port is taken (another cla serve?): pass another with --addr, e.g. --addr 127.0.0.1:8081: %w", cfg.Addr, err)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	keyring := web.NewKeyring(creds)
	for _, cred := range creds { // the bootstrap admin has no config entry
		ids = append(ids, cred.Identity)
	}
	var sb *sandboxRun
	slackMode := "off"
	if sandboxOn(cfg) {
		if sb, err = startSandbox(cfg, log.With("component", "slackemu")); err != nil {
			_ = ln.Close()
			return err
		}
		defer sb.emu.Close()
		slackMode = "sandbox"
	} else if cfg.Slack.Enabled() {
		slackMode = "slack"
	}
	dir := jobs.NewDirectory(sandboxIdentities(sb, ids))
	check.dir = dir
	c, err := newComponents(ctx, cfg, svc, dir, keyring, publicURL, db.secret, sb, reg, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if c.people != nil {
		check.slack.Store(c.people)
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL, "store", db.where)
	if sb != nil {
		sb.announce(ln, publicURL, log)
	}
	api := web.New(web.Config{Service: svc, Keyring: keyring, Logger: log, Slack: slackMode, Registry: reg,
		BodyTimeout: webLimits.BodyTimeout, ReadHeaderTimeout: webLimits.ReadHeaderTimeout, SendTimeout: webLimits.SendTimeout, MaxConnsPerClient: webLimits.MaxConnsPerClient,
		ReloadTalkback: c.reloadTalkback(), Callbacks: c.callbacks, Monitor: c.monitor, LoginLink: c.loginLink})
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return api.Run(gctx, ln) })
	g.Go(func() error { return svc.RunTimers(gctx, log.With("component", "timers")) })
	g.Go(func() error { return svc.RunMaintenance(gctx, maintenance, log.With("component", "maintenance")) })
	if db.listen != nil {
		g.Go(func() error { return db.listen(gctx, svc) })
	}
	for _, run := range c.runners {
		g.Go(func() error { return run(gctx) })
	}
	err = g.Wait()
	if cerr := db.close(); cerr != nil && err == nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	if err == nil {
		log.Info("stopped cleanly")
	}
	return err
}

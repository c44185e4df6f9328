package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/sandbox"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// optBool is a boolean flag that remembers whether it was given
// (--sandbox, --sandbox=false).
type optBool struct{ v **bool }

func (o *optBool) String() string {
	if o.v == nil || *o.v == nil {
		return ""
	}
	return strconv.FormatBool(**o.v)
}

func (o *optBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, not %q", s)
	}
	*o.v = &b
	return nil
}

func (o *optBool) IsBoolFlag() bool { return true }

// sandboxOn says whether serve runs the sandbox Slack: only without Slack
// tokens, on the embedded bbolt store (replicas sharing PostgreSQL would
// each run a workspace of their own), and unless turned off.
func sandboxOn(c *config.Config) bool {
	return !c.Slack.Enabled() && !pgstore.IsURL(storeSetting(c)) && (c.Sandbox == nil || *c.Sandbox)
}

// sandboxRun is the running sandbox workspace.
type sandboxRun struct {
	emu       *slackemu.Emulator
	statePath string
}

// startSandbox starts the sandbox workspace on a loopback port, restores
// it from the data directory, seeds its people and channels, and points
// the Slack settings at it so the bot connects to it like to Slack.
func startSandbox(cfg *config.Config, log *slog.Logger) (*sandboxRun, error) {
	sb := &sandboxRun{statePath: filepath.Join(filepath.Dir(cfg.DB), "cla.sandbox.json")}
	sb.emu = slackemu.New(slackemu.Config{TeamDomain: "sandbox", BotName: "cla", Logger: log})
	if _, err := sb.emu.LoadFile(sb.statePath); err != nil {
		return nil, fmt.Errorf("sandbox slack: %w (move the file away to start afresh)", err)
	}
	if err := sb.emu.Listen("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("sandbox slack: %w", err)
	}
	sandbox.Seed(sb.emu)
	cfg.Slack.AppToken, cfg.Slack.BotToken = config.Secret(sb.emu.AppToken()), config.Secret(sb.emu.BotToken())
	cfg.Slack.APIURL = sb.emu.APIURL()
	return sb, nil
}

// announce logs the one line that says the sandbox is in use, and warns
// when the server is reachable beyond this machine.
func (sb *sandboxRun) announce(ln net.Listener, publicURL string, log *slog.Logger) {
	log.Info("no Slack tokens: using the sandbox Slack at " + publicURL + "/sandbox")
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn("the sandbox Slack is on and the server listens beyond loopback: anyone who can sign in can act as the sandbox people; set Slack tokens or pass --sandbox=false",
			"addr", ln.Addr().String())
	}
}

// buildSandbox mounts the sandbox page beside the monitor.
func (c *components) buildSandbox() error {
	if c.sandbox == nil {
		return nil
	}
	page, err := sandbox.New(sandbox.Config{Emulator: c.sandbox.emu, Service: c.svc, Session: c.viewer,
		Authenticate: c.keyring.Lookup, StatePath: c.sandbox.statePath, PublicURL: c.publicURL,
		Logger: c.log.With("component", "sandbox")})
	if err != nil {
		return fmt.Errorf("sandbox page: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox", page)
	mux.Handle("/sandbox/", page)
	mux.Handle("/", c.monitor)
	c.monitor = mux
	c.runners = append(c.runners, page.Run, func(ctx context.Context) error { <-ctx.Done(); page.Close(); return nil })
	return nil
}

// sandboxIdentities adds the sandbox people's identities to the directory.
func sandboxIdentities(sb *sandboxRun, ids []jobs.Identity) []jobs.Identity {
	if sb == nil {
		return ids
	}
	return append(ids, sandbox.Identities(ids)...)
}

// runSandbox is `cla sandbox demo`.
func runSandbox(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var as string
	fs := newFlags(e, "sandbox demo", help{usage: "cla sandbox demo [--as alice|bob|carol] [flags]",
		about: "Starts a demo in the sandbox Slack of a server running without Slack tokens: a job with an\n" +
			"approval that needs two votes from ops (alice and bob), then a manual action with a checklist\n" +
			"and required evidence; the --as person types \"@cla add #job-demo-N\" in #general to bind its channel.",
		examples: "  cla sandbox demo\n  cla sandbox demo --as bob --output json"})
	cf.register(fs, e)
	fs.StringVar(&as, "as", "alice", "the sandbox `PERSON` who binds the demo channel")
	if len(args) == 0 || args[0] != "demo" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			_, code, _ := parse(e, fs, []string{"--help"}, 0)
			return code
		}
		e.errorf("sandbox: usage: cla sandbox demo [--as alice|bob|carol] [flags]")
		return exitError
	}
	if _, code, ok := parse(e, fs, args[1:], 0); !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("sandbox demo: %v", err)
		return exitError
	}
	res, err := cl.StartSandboxDemo(ctx, as)
	if err != nil {
		return cf.fail(e, "sandbox demo", err)
	}
	cf.show(e, res, func(w io.Writer) {
		fmt.Fprintf(w, "demo job %s started; open %s\n", res.JobID, res.URL)
	})
	return exitOK
}

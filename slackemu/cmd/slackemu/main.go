// Command slackemu runs the local Slack emulator as a sandbox: it prints the
// Web API URL and tokens to give a bot (or the Node fidelity check), seeds a
// small workspace, and serves until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cla-ops/cla/slackemu"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "slackemu:", err)
		os.Exit(1)
	}
}

// run parses flags, starts the emulator and waits for a signal.
func run() error {
	addr := flag.String("addr", "127.0.0.1:3939", "listen address")
	botToken := flag.String("bot-token", os.Getenv("SLACK_BOT_TOKEN"), "bot token to accept (random when empty)")
	appToken := flag.String("app-token", os.Getenv("SLACK_APP_TOKEN"), "app-level token to accept (random when empty)")
	redelivery := flag.Duration("redelivery", 3*time.Second, "redeliver unacked events after this long")
	seed := flag.Bool("seed", true, "create demo users alice and bob and a #general channel")
	verbose := flag.Bool("v", false, "debug logs on stderr")
	flag.Parse()

	cfg := slackemu.Config{BotToken: *botToken, AppToken: *appToken, RedeliveryDelay: *redelivery}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	emu, err := slackemu.Start(*addr, cfg)
	if err != nil {
		return err
	}
	defer emu.Close()
	if *seed {
		seedWorkspace(emu)
	}
	fmt.Printf("SLACK_API_URL=%s\nSLACK_BOT_TOKEN=%s\nSLACK_APP_TOKEN=%s\nSLACK_BOT_USER_ID=%s\n",
		emu.APIURL(), emu.BotToken(), emu.AppToken(), emu.BotUserID())
	<-ctx.Done()
	return nil
}

// seedWorkspace adds two humans and a channel everyone (the bot too) is in.
func seedWorkspace(emu *slackemu.Emulator) {
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com", Groups: []string{"ops"}})
	bob := emu.AddUser(slackemu.User{Name: "bob", Email: "bob@example.com"})
	ch := emu.AddChannel(slackemu.Channel{Name: "general", Members: []string{alice.ID, bob.ID, emu.BotUserID()}})
	fmt.Printf("SLACK_DEMO_USERS=%s,%s\nSLACK_DEMO_CHANNEL=%s\n", alice.ID, bob.ID, ch.ID)
}

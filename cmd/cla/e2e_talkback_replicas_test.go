package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/slackemu"
)

// TestReplicas_TalkBackConfirmElsewhere: replica A posts a TalkBack
// confirm message and stops; Slack delivers the click to replica B (the
// only connection left), which finds the request in PostgreSQL and runs it
// once. Later clicks, on B, are told it was already confirmed.
func TestReplicas_TalkBackConfirmElsewhere(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	emu := slackemu.NewTest(t, slackemu.Config{})
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com"})
	bob := emu.AddUser(slackemu.User{Name: "bob", Email: "bob@example.com"})
	carol := emu.AddUser(slackemu.User{Name: "carol", Email: "carol@example.com"})
	ch := emu.AddChannel(slackemu.Channel{Name: "job-tb-1", Members: []string{alice.ID, bob.ID, carol.ID, emu.BotUserID()}})
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	// bob and carol are Slack users with no identity entry: this test is
	// about replicas, so let them act (slack.unknownUsers is readonly by
	// default since issue 17 item 8).
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("slack:\n  unknownUsers: allow\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	record := filepath.Join(dir, "ran.txt")
	allowlist := filepath.Join(dir, "talkback.yaml")
	require.NoError(t, os.WriteFile(allowlist, []byte(`actions:
  - name: wipe
    command: ["/bin/sh", "-c", "echo ran >> \"$0\"", "`+record+`"]
    confirm: true
`), 0o600))
	env := []string{"E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	args := []string{"--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg, "--talkback", allowlist}

	a := startServer(t, env, args...)
	require.NoError(t, emu.WaitConnections(ctx, 1))
	code, m := api(t, "POST", a.url()+"/v1/jobs", tokCI, map[string]any{"id": "tb-1", "name": "Wipe"})
	require.Equal(t, 201, code, m)
	_, err = emu.PostMessage(alice.ID, ch.ID, slackemu.MentionUser(emu.BotUserID())+" add tb-1")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return len(jobOf(t, a, "tb-1")["channels"].([]any)) == 1 })
	_, err = emu.PostMessage(alice.ID, ch.ID, slackemu.MentionUser(emu.BotUserID())+" run wipe")
	require.NoError(t, err)
	var confirm slackemu.Message
	waitFor(t, ctx, func() bool {
		for _, m := range emu.Messages(ch.ID) {
			if m.IsBot() && strings.Contains(string(m.Blocks), "talkback_confirm") {
				confirm = m
				return true
			}
		}
		return false
	})

	b := startServer(t, env, args...)
	require.NoError(t, emu.WaitConnections(ctx, 2))
	a.stop()
	waitFor(t, ctx, func() bool { return emu.Connections() == 1 })

	_, err = emu.ClickButton(ctx, bob.ID, ch.ID, confirm.TS, "talkback_confirm")
	require.NoError(t, err)
	ran := func() int {
		data, _ := os.ReadFile(record)
		return strings.Count(string(data), "ran")
	}
	waitFor(t, ctx, func() bool { return ran() == 1 })
	waitFor(t, ctx, func() bool {
		cur, ok := emu.Message(ch.ID, confirm.TS)
		return ok && strings.Contains(cur.Text, "Confirmed by")
	})

	// Carol's client still shows the buttons (a stale rendering).
	_, err = emu.Act(ctx, slackemu.Action{User: carol.ID, Channel: ch.ID, MessageTS: confirm.TS,
		ActionID: "talkback_confirm", Shown: confirm.Blocks})
	require.NoError(t, err)
	waitFor(t, ctx, func() bool {
		for _, e := range emu.Ephemerals(carol.ID) {
			if strings.Contains(e.Text, "already confirmed by") {
				return true
			}
		}
		return false
	})
	require.Equal(t, 1, ran(), "run once")
	require.Contains(t, logText(t, b, "tb-1"), "confirmed")
	b.stop()
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// TestE2E_OneDecisionEveryDoor runs the real binary against the Slack
// emulator: a channel bound with @cla add mirrors chat into the job log,
// gates are announced with buttons, and whichever door resolves a gate —
// a Slack click, the API, the CLI — every announcement is updated.
func TestE2E_OneDecisionEveryDoor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	emu := slackemu.NewTest(t, slackemu.Config{})
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com"})
	bob := emu.AddUser(slackemu.User{Name: "bobby", Email: "bobby@example.com"})
	general := emu.AddChannel(slackemu.Channel{Name: "general", Members: []string{alice.ID, bob.ID, emu.BotUserID()}})

	dir := t.TempDir()
	env := []string{"E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	allowlist := filepath.Join(dir, "talkback.yaml")
	require.NoError(t, os.WriteFile(allowlist, []byte(`actions:
  - name: greet
    description: Say hello
    command: ["echo", "hello", "{{.args.name}}", "from", "{{.job.id}}"]
    args:
      name: { pattern: "^[a-z]+$", required: true }
    when: 'user.name == "alice"'
`), 0o600))
	srv := startServer(t, env, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--config", testConfig(t, dir),
		"--talkback", allowlist)
	require.NoError(t, emu.WaitConnections(ctx, 1))
	base := srv.url() + "/v1/jobs"

	code, _ := api(t, "POST", base, tokCI, map[string]any{"id": "rel-1", "name": "Release v3.1.0",
		"context": map[string]any{"environment": map[string]any{"name": "prod"}}})
	require.Equal(t, 201, code)

	// @cla add creates #job-rel-1, binds it and invites alice.
	_, err := emu.PostMessage(alice.ID, general.ID, slackemu.MentionUser(emu.BotUserID())+" add #job-rel-1")
	require.NoError(t, err)
	var channelID string
	waitFor(t, ctx, func() bool {
		ch, ok := emu.ChannelByName("job-rel-1")
		channelID = ch.ID
		return ok && len(jobOf(t, srv, "rel-1")["channels"].([]any)) == 1
	})

	// Chat in the bound channel is mirrored into the job log.
	_, err = emu.PostMessage(alice.ID, channelID, "swapping the disk now")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return strings.Contains(logText(t, srv, "rel-1"), "swapping the disk now") })

	// An action gate for ops is announced in the channel with its buttons.
	code, _ = api(t, "POST", base+"/rel-1/gates", tokCI, map[string]any{"kind": "action", "name": "Swap disk",
		"assignees": []string{"ops"}})
	require.Equal(t, 201, code)
	msg := waitAnnouncement(t, ctx, emu, channelID, "manual_action_complete")

	// bobby is no configured identity (the config names others): under the
	// default slack.unknownUsers (readonly) his click is refused ephemerally,
	// with the key that would allow it, and changes nothing.
	require.NoError(t, emu.Join(channelID, bob.ID))
	waitFor(t, ctx, func() bool { // the announcement's ts is recorded with the gate
		_, recorded := jobOf(t, srv, "rel-1")["gates"].([]any)[0].(map[string]any)["messages"]
		return recorded
	})
	before := jobOf(t, srv, "rel-1")["version"]
	_, err = emu.ClickButton(ctx, bob.ID, channelID, msg.TS, "manual_action_complete")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return len(emu.Ephemerals(bob.ID)) > 0 })
	require.Contains(t, emu.Ephemerals(bob.ID)[0].Text, "slack.unknownUsers: allow")
	require.Equal(t, before, jobOf(t, srv, "rel-1")["version"])

	// alice (ops, matched by email) completes it from Slack.
	_, err = emu.ClickButton(ctx, alice.ID, channelID, msg.TS, "manual_action_complete")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return jobOf(t, srv, "rel-1")["status"] == "in_progress" })
	gate := jobOf(t, srv, "rel-1")["gates"].([]any)[0].(map[string]any)
	require.Equal(t, "alice", gate["resolvedBy"])
	require.Equal(t, "slack", gate["resolvedVia"])
	waitUpdated(t, ctx, emu, channelID, msg.TS, "manual_action_complete", "via slack")

	// An approval resolved through the API updates its Slack message too.
	code, _ = api(t, "POST", base+"/rel-1/gates", tokCI, map[string]any{"kind": "approval", "name": "Ship it"})
	require.Equal(t, 201, code)
	msg = waitAnnouncement(t, ctx, emu, channelID, "approval_approve")
	code, _ = api(t, "POST", base+"/rel-1/approve", tokAlice, map[string]any{"message": "lgtm"})
	require.Equal(t, 200, code)
	waitUpdated(t, ctx, emu, channelID, msg.TS, "approval_approve", "via api")

	// A pause resumed with the CLI: the message says so.
	code, _ = api(t, "POST", base+"/rel-1/gates", tokCI, map[string]any{"kind": "pause", "name": "Window"})
	require.Equal(t, 201, code)
	msg = waitAnnouncement(t, ctx, emu, channelID, "pause_resume")
	_, stderr, exit := cli(t, nil, "resume", "rel-1", "--server", srv.url(), "--token", tokCarol)
	require.Equal(t, 0, exit, stderr)
	waitUpdated(t, ctx, emu, channelID, msg.TS, "pause_resume", "via cli")

	// A second click on a resolved gate is answered with who resolved it.
	_, err = emu.ClickButton(ctx, alice.ID, channelID, msg.TS, "pause_resume")
	if err == nil { // the buttons are gone; clicking the old message still reaches the bot
		waitFor(t, ctx, func() bool {
			for _, e := range emu.Ephemerals(alice.ID) {
				if strings.Contains(e.Text, "already resolved") {
					return true
				}
			}
			return false
		})
	}
	// TalkBack from the channel: the guard admits alice, the output lands in
	// the job log and in a threaded reply; bobby (unconfigured, readonly) is
	// refused and nothing runs.
	ts, err := emu.PostMessage(alice.ID, channelID, slackemu.MentionUser(emu.BotUserID())+" run greet name=world")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return strings.Contains(logText(t, srv, "rel-1"), "hello world from rel-1") })
	_, err = emu.WaitMessage(ctx, channelID, func(m slackemu.Message) bool {
		return m.IsBot() && m.ThreadTS == ts && strings.Contains(m.Text, "hello world from rel-1")
	})
	require.NoError(t, err)
	_, err = emu.PostMessage(bob.ID, channelID, slackemu.MentionUser(emu.BotUserID())+" run greet name=mars")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool {
		for _, e := range emu.Ephemerals(bob.ID) {
			if strings.Contains(e.Text, "Nothing was run") && strings.Contains(e.Text, "slack.unknownUsers") {
				return true
			}
		}
		return false
	})
	require.NotContains(t, logText(t, srv, "rel-1"), "hello mars")
	srv.stop()
}

func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met before the deadline")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func jobOf(t *testing.T, srv *server, id string) map[string]any {
	t.Helper()
	code, job := api(t, "GET", srv.url()+"/v1/jobs/"+id, tokCI, nil)
	require.Equal(t, 200, code)
	return job
}

func logText(t *testing.T, srv *server, id string) string {
	t.Helper()
	code, body := api(t, "GET", srv.url()+"/v1/jobs/"+id+"/log", tokCI, nil)
	require.Equal(t, 200, code)
	var texts []string
	for _, e := range body["entries"].([]any) {
		texts = append(texts, e.(map[string]any)["text"].(string))
	}
	return strings.Join(texts, "\n")
}

// waitAnnouncement waits for the bot's message carrying a button.
func waitAnnouncement(t *testing.T, ctx context.Context, emu *slackemu.Emulator, channel, actionID string) slackemu.Message {
	t.Helper()
	m, err := emu.WaitMessage(ctx, channel, func(m slackemu.Message) bool {
		return m.IsBot() && strings.Contains(string(m.Blocks), `"`+actionID+`"`)
	})
	require.NoError(t, err)
	return m
}

// waitUpdated waits until the announcement lost its button and names the door.
func waitUpdated(t *testing.T, ctx context.Context, emu *slackemu.Emulator, channel, ts, actionID, door string) {
	t.Helper()
	waitFor(t, ctx, func() bool {
		m, ok := emu.Message(channel, ts)
		blocks := string(m.Blocks)
		return ok && strings.Contains(blocks, door) && !strings.Contains(blocks, `"`+actionID+`"`)
	})
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// TestE2E_ChannelRecord runs the real binary against the Slack emulator
// and reads the job's record back through the API and the CLI: a file
// shared in the channel comes back byte for byte, Slack's escapes and
// mentions are stored as people wrote them, an API comment relayed to the
// channel is logged once, and the log and show commands read well.
func TestE2E_ChannelRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	emu := slackemu.NewTest(t, slackemu.Config{})
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com"})
	bob := emu.AddUser(slackemu.User{Name: "bob", Email: "bob@example.com"})
	general := emu.AddChannel(slackemu.Channel{Name: "general", Members: []string{alice.ID, bob.ID, emu.BotUserID()}})
	dir := t.TempDir()
	env := []string{"E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	srv := startServer(t, env, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--config", testConfig(t, dir))
	require.NoError(t, emu.WaitConnections(ctx, 1))
	code, _ := api(t, "POST", srv.url()+"/v1/jobs", tokCI, map[string]any{"id": "qa-1234", "name": "Deploy"})
	require.Equal(t, 201, code)
	_, err := emu.PostMessage(alice.ID, general.ID, slackemu.MentionUser(emu.BotUserID())+" add #job-qa-1234")
	require.NoError(t, err)
	var ch string
	waitFor(t, ctx, func() bool {
		c, ok := emu.ChannelByName("job-qa-1234")
		ch = c.ID
		return ok && len(jobOf(t, srv, "qa-1234")["channels"].([]any)) == 1
	})
	require.NoError(t, emu.Join(ch, bob.ID))
	cliEnv := []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tokCI}
	logText := func(args ...string) string {
		out, errOut, code := cli(t, cliEnv, append([]string{"job", "log", "qa-1234"}, args...)...)
		require.Equal(t, 0, code, errOut)
		return out
	}

	// Readable text, raw kept.
	_, err = emu.Post(slackemu.HumanMessage{User: alice.ID, Channel: ch, Verbatim: true,
		Text: "restart &lt;api&gt; &amp; check with <@" + bob.ID + ">"})
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return strings.Contains(logText(), "restart <api> & check with @bob") })

	// A shared file is kept and comes back.
	content := []byte("serial ABC123\x00\x01binary")
	_, _, err = emu.ShareFile(bob.ID, ch, slackemu.File{Name: "disk.bin", Content: content}, "the old disk")
	require.NoError(t, err)
	var n int
	waitFor(t, ctx, func() bool {
		anns, _ := jobOf(t, srv, "qa-1234")["annotations"].([]any)
		for i, a := range anns {
			if a.(map[string]any)["name"] == "disk.bin" {
				n = i + 1
			}
		}
		return n > 0
	})
	got := filepath.Join(dir, "got.bin")
	_, errOut, code := cli(t, cliEnv, "job", "annotation", "get", "qa-1234", fmt.Sprint(n), "-o", got)
	require.Equal(t, 0, code, errOut)
	raw, err := os.ReadFile(got)
	require.NoError(t, err)
	require.Equal(t, content, raw)
	_, errOut, code = cli(t, cliEnv, "job", "annotation", "get", "qa-1234", "99", "-o", got)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "job qa-1234 has no annotation 99")

	// An API comment is relayed to the channel and logged once.
	code, _ = api(t, "POST", srv.url()+"/v1/jobs/qa-1234/annotations", tokCI, map[string]any{"kind": "comment", "text": "canary <ok> & green"})
	require.Equal(t, 201, code)
	_, err = emu.WaitMessage(ctx, ch, func(m slackemu.Message) bool { return strings.Contains(m.Text, "canary &lt;ok&gt; &amp; green") })
	require.NoError(t, err)
	_, err = emu.PostMessage(alice.ID, ch, "marker after the relay")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return strings.Contains(logText(), "marker after the relay") })
	require.NoError(t, emu.WaitIdle(ctx))
	out := logText()
	require.Equal(t, 1, strings.Count(out, "canary <ok> & green"), out)
	require.NotContains(t, out, "&lt;", "never escaped twice")

	// Misc, a long log from a file, edits and threads read well.
	_, errOut, code = cli(t, cliEnv, "job", "annotate", "qa-1234", "--kind", "misc", "--data", `{"build": 812, "commit": "abc123"}`)
	require.Equal(t, 0, code, errOut)
	var lines []string
	for i := 1; i <= 40; i++ {
		lines = append(lines, fmt.Sprintf("step %d ok", i))
	}
	big := filepath.Join(dir, "big.log")
	require.NoError(t, os.WriteFile(big, []byte(strings.Join(lines, "\n")), 0o644))
	_, errOut, code = cli(t, cliEnv, "job", "annotate", "qa-1234", "--kind", "log", "--file", big)
	require.Equal(t, 0, code, errOut)
	ts, err := emu.PostMessage(bob.ID, ch, "first try")
	require.NoError(t, err)
	require.NoError(t, emu.EditMessage(ch, ts, "second try"))
	_, err = emu.PostReply(alice.ID, ch, ts, "in a thread")
	require.NoError(t, err)
	waitFor(t, ctx, func() bool {
		return strings.Contains(logText(), "in a thread") && strings.Contains(logText(), "second try")
	})
	out = logText()
	require.Contains(t, out, "build=812 commit=abc123")
	require.Contains(t, out, "… 32 more lines (--full shows them)")
	require.NotContains(t, out, "step 20 ok")
	require.Contains(t, out, "(edited): second try")
	require.Contains(t, out, "↳ reply in thread")
	require.Contains(t, out, "📎 disk.bin (21 B)")
	require.Contains(t, logText("--full"), "step 20 ok")

	out, errOut, code = cli(t, cliEnv, "job", "show", "qa-1234")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "annotations:")
	require.Contains(t, out, fmt.Sprintf("%d. file    slack:%s via slack", n, bob.ID))
	require.Contains(t, out, "disk.bin (21 B)")
	require.Contains(t, out, "build=812 commit=abc123")
}

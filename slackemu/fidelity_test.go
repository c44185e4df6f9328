package slackemu

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFidelity_OfficialNodeClients runs @slack/socket-mode and
// @slack/web-api against the emulator (fidelity/fidelity.test.mjs).
func TestFidelity_OfficialNodeClients(t *testing.T) {
	node, err := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join("fidelity", "node_modules", "@slack", "socket-mode"))
	if err != nil || statErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or fidelity/node_modules missing (run npm ci in bot/slackemu/fidelity): %v %v", err, statErr)
		}
		t.Skip("node or fidelity/node_modules missing; run npm ci in bot/slackemu/fidelity")
	}
	emu := NewTest(t, fastConfig())
	alice, _, general := workspace(t, emu)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "fidelity.test.mjs")
	cmd.Dir = "fidelity"
	cmd.Env = append(os.Environ(), "SLACK_API_URL="+emu.APIURL(), "SLACK_APP_TOKEN="+emu.AppToken(),
		"SLACK_BOT_TOKEN="+emu.BotToken(), "FIDELITY_CHANNEL="+general.ID)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	connCtx, connCancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-done: // node gave up before connecting: stop waiting
			connCancel()
			done <- nil
		case <-connCtx.Done():
		}
	}()
	require.NoError(t, emu.WaitConnections(connCtx, 1), "node never connected")
	connCancel()
	_, err = emu.PostMessage(alice.ID, general.ID, "hello node")
	require.NoError(t, err)
	require.NoError(t, <-done, out.String())
	require.Contains(t, out.String(), "# pass 1", out.String())

	first := emu.Envelopes()[0]
	require.NotNil(t, first.Ack, "the Node client acked the event")
	post, err := emu.WaitCall(ctx, "chat.postMessage", func(c Call) bool { return c.Arg("text") == "echo: hello node" })
	require.NoError(t, err)
	require.True(t, post.OK())
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

const trapWorkflow = `name: trapdemo
steps:
  - id: flaky
    type: shell
    trap: true
    config: { command: 'test -f "$MARKER" && echo fixed' }
  - id: after
    type: shell
    depends_on: [flaky]
    config: { command: 'echo after >> "$RAN"' }
`

// TestE2E_WorkflowTrapDecidedInSlack: a failing step with trap: true opens a
// trap gate on the run's job and the run pauses (exit 3, --no-wait); someone
// binds the job's channel and decides with "@cla retry|skip|abort"; the next
// "cla run" follows the decision.
func TestE2E_WorkflowTrapDecidedInSlack(t *testing.T) {
	emu := slackemu.NewTest(t, slackemu.Config{})
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com"})
	general := emu.AddChannel(slackemu.Channel{Name: "general", Members: []string{alice.ID, emu.BotUserID()}})
	dir := t.TempDir()
	env := []string{"E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	srv := startServer(t, env, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--config", testConfig(t, dir))
	file := filepath.Join(dir, "trap.yaml")
	require.NoError(t, os.WriteFile(file, []byte(trapWorkflow), 0o600))

	tests := []struct {
		decision  string
		fix       bool // the failure is fixed before the decision
		exit      int
		afterRuns bool
	}{
		{"retry", true, 0, true},
		{"skip", false, 0, true},
		{"abort", false, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.decision, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
			defer cancel()
			marker, ran := filepath.Join(t.TempDir(), "fixed"), filepath.Join(t.TempDir(), "ran")
			runEnv := []string{"MARKER=" + marker, "RAN=" + ran}
			args := []string{"run", "--server", srv.url(), "--token", tokCI, "--run-id", tt.decision,
				"--state-dir", t.TempDir(), "--no-wait", file}
			_, stderr, code := cli(t, runEnv, args...)
			require.Equal(t, 3, code, "the trap pauses the run: %s", stderr)
			jobID := "trapdemo-" + tt.decision
			gate := jobOf(t, srv, jobID)["gates"].([]any)[0].(map[string]any)
			require.Equal(t, "trap", gate["kind"])
			require.Equal(t, "open", gate["state"])

			bot := slackemu.MentionUser(emu.BotUserID())
			_, err := emu.PostMessage(alice.ID, general.ID, bot+" add #job-"+jobID)
			require.NoError(t, err)
			var channel string
			waitFor(t, ctx, func() bool {
				ch, ok := emu.ChannelByName("job-" + jobID)
				channel = ch.ID
				return ok && len(jobOf(t, srv, jobID)["channels"].([]any)) == 1
			})
			if tt.fix {
				require.NoError(t, os.WriteFile(marker, nil, 0o600))
			}
			_, err = emu.PostMessage(alice.ID, channel, bot+" "+tt.decision+" decided in chat")
			require.NoError(t, err)
			waitFor(t, ctx, func() bool {
				g := jobOf(t, srv, jobID)["gates"].([]any)[0].(map[string]any)
				return g["outcome"] == tt.decision && g["resolvedVia"] == "slack" && g["resolvedBy"] == "alice"
			})

			_, stderr, code = cli(t, runEnv, args...) // the next CI job: same command, same state
			require.Equal(t, tt.exit, code, stderr)
			_, err = os.Stat(ran)
			require.Equal(t, tt.afterRuns, err == nil, "the step after the trap ran: %v", err)
			require.True(t, strings.Contains(logText(t, srv, jobID), tt.decision), "the decision is in the job log")
			if tt.afterRuns { // the bound channel watched the resumed run
				_, err = emu.WaitMessage(ctx, channel, func(m slackemu.Message) bool {
					return m.IsBot() && strings.Contains(m.Text, "step after started")
				})
				require.NoError(t, err)
			}
		})
	}
	srv.stop()
}

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

// TestE2E_Ctrlplane drives the ctrlplane RFC's own files, unchanged
// (examples/ctrlplane), through the real binary: the CLI YAML dispatched
// with `cla job create --agent-config`, announced in the Slack emulator in
// the RFC's shape (the RFC's channel ids exist in the emulator), completed
// through the RFC's evidence modal; `cla gate --agent-config` with the
// RFC's JSON; and a deployment freeze from the CLI.
func TestE2E_Ctrlplane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	emu := slackemu.NewTest(t, slackemu.Config{})
	jane := emu.AddUser(slackemu.User{Name: "jane", Email: "jane@example.com"})
	for _, id := range []string{"C04XXXXXX", "C04FIELD_OPS"} {
		emu.AddChannel(slackemu.Channel{ID: id, Name: strings.ToLower(id), Members: []string{jane.ID, emu.BotUserID()}})
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	data = append(data, []byte(`  - name: jane
    email: jane@example.com
    groups: [platform-ops, field-ops, ops-team]
    token: jane-secret-token-6
`)...)
	require.NoError(t, os.WriteFile(cfg, data, 0o600))
	env := []string{"E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	srv := startServer(t, env, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--config", cfg)
	require.NoError(t, emu.WaitConnections(ctx, 1))
	examples := filepath.Join("..", "..", "examples", "ctrlplane")
	as := func(tok string, args ...string) (string, string, int) {
		return cli(t, nil, append(args, "--server", srv.url(), "--token", tok)...)
	}

	// The RFC's CLI YAML: slug and name fill context.deployment.
	out, stderr, code := as(tokCI, "job", "create", "--id", "infra-1", "--agent-config", filepath.Join(examples, "infra-rollout.yaml"),
		"--context", `{"resource": {"name": "us-east-1-node-7"}, "environment": {"name": "production"}, "release": {"version": {"tag": "v1.4.2"}}}`)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "infra-1\n", out)
	job := jobOf(t, srv, "infra-1")
	require.Equal(t, "action_required", job["status"])
	require.Equal(t, "Hardware verification", job["name"])
	require.Equal(t, map[string]any{"slug": "infra-rollout", "name": "Infrastructure Rollout"}, job["context"].(map[string]any)["deployment"])
	require.Equal(t, "Verify that node us-east-1-node-7 has been physically\nprovisioned and is network-reachable.\n",
		job["metadata"].(map[string]any)["manual-action/description"])

	msg := waitAnnouncement(t, ctx, emu, "C04XXXXXX", "manual_action_complete")
	blocks := string(msg.Blocks)
	for _, want := range []string{`"text":"🔧 Manual Action Required"`, `"text":"*Hardware verification*\n\nVerify that node us-east-1-node-7`,
		`"*Deployment:*\ninfra-rollout"`, `"*Environment:*\nproduction"`, `"*Resource:*\nus-east-1-node-7"`, `"*Version:*\nv1.4.2"`} {
		require.Contains(t, blocks, want)
	}

	// requireEvidence: the click opens the RFC's modal; its submission completes the job.
	_, err = emu.ClickButton(ctx, jane.ID, "C04XXXXXX", msg.TS, "manual_action_complete")
	require.NoError(t, err)
	v, err := emu.WaitView(ctx, func(v slackemu.View) bool { return v.CallbackID == "manual_action_evidence" && !v.Closed })
	require.NoError(t, err)
	require.Contains(t, v.PrivateMetadata, `"job_id":"infra-1"`)
	_, err = emu.SubmitView(ctx, slackemu.Submission{ViewID: v.ID, User: jane.ID, Values: map[string]map[string]string{
		"evidence_message": {"evidence_message_input": "All checks passed. Device firmware at v3.0.2 baseline. 45% storage free."},
		"evidence_url":     {"evidence_url_input": "https://runbook.internal/disk-swap/RUN-4521"}}})
	require.NoError(t, err)
	waitFor(t, ctx, func() bool { return jobOf(t, srv, "infra-1")["status"] == "successful" })
	meta := jobOf(t, srv, "infra-1")["metadata"].(map[string]any)
	require.Equal(t, "jane", meta["manual-action/completed-by"])
	require.Equal(t, "slack", meta["manual-action/completed-via"])
	require.Equal(t, jane.ID, meta["manual-action/slack-user-id"])

	// cla gate JOB --agent-config with the RFC's JSON; bad input changes nothing.
	_, stderr, code = as(tokCI, "job", "create", "--id", "g-1", "--name", "Rollout", "--context", "@"+filepath.Join(examples, "context.disk-swap.json"))
	require.Equal(t, 0, code, stderr)
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"type": "argo-cd", "name": "x"}`), 0o600))
	_, stderr, code = as(tokCI, "gate", "g-1", "--agent-config", bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, `unknown type "argo-cd": cla accepts manual-action`)
	require.Equal(t, "pending", jobOf(t, srv, "g-1")["status"])
	out, stderr, code = as(tokCI, "gate", "g-1", "--agent-config", filepath.Join(examples, "disk-swap.json"), "--output", "json")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, `"description": "Replace the failed disk in us-east-1-node-7 before deployment proceeds."`)
	require.Equal(t, "action_required", jobOf(t, srv, "g-1")["status"])

	// A freeze from the CLI refuses the RFC's dispatch; lifting it lets it through.
	_, stderr, code = as(tokCI, "freeze", "create", "--reason", "quarter end", "--until", "1h")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "only admins")
	id, stderr, code := as(tokRoot, "freeze", "create", "--reason", "quarter end", "--until", "1h", "--environment", "production")
	require.Equal(t, 0, code, stderr)
	id = strings.TrimSpace(id)
	out, stderr, code = as(tokRoot, "freeze", "list")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, id+"\tuntil ")
	require.Contains(t, out, "\tproduction\tquarter end")
	dispatch := []string{"job", "create", "--id", "dv-1", "--agent-config", filepath.Join(examples, "device-verification.yaml"),
		"--context", "@" + filepath.Join(examples, "context.kiosk.json")}
	_, stderr, code = as(tokCI, dispatch...)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "new jobs are refused during deployment freeze "+id)
	require.Contains(t, stderr, "(frozen)")
	_, stderr, code = as(tokRoot, "freeze", "lift", id)
	require.Equal(t, 0, code, stderr)
	_, stderr, code = as(tokCI, dispatch...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "Verify edge device us-west-2-kiosk-14", jobOf(t, srv, "dv-1")["name"])
	waitAnnouncement(t, ctx, emu, "C04FIELD_OPS", "manual_action_complete")
	srv.stop()
}

package main

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

func sha256hex(s string) string { return hex.EncodeToString(hashToken(s)) }

// TestServe_EndToEnd drives a whole job through the real binary: action gate
// with evidence, two-person approval, pause, completion by PATCH; then
// restarts the server and finds everything intact.
func TestServe_EndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	cfg := testConfig(t, dir)
	senv := []string{"E2E_CI_TOKEN=" + tokCI}
	srv := startServer(t, senv, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg, "--log-level", "debug")
	as := func(tok string) []string { return []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tok} }
	ok := func(tok string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, as(tok), args...)
		require.Equal(t, 0, code, "cla %v: %s%s", args, out, errOut)
		return out
	}

	require.Equal(t, "e2e-1\n", ok(tokCI, "job", "create", "--id", "e2e-1", "--name", "Deploy v3.1.0",
		"--context", `{"resource":{"name":"node-7"}}`))
	ok(tokCI, "gate", "e2e-1", "--kind", "action", "--name", "Swap disk", "--assignee", "ops",
		"--description", "Replace the disk in {[ .resource.name ]}", "--require-evidence", "--checklist", "power off, then swap")
	_, errOut, code := cli(t, as(tokAlice), "complete", "e2e-1", "--evidence-url", "https://t/1")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "tick every checklist item")
	require.Contains(t, ok(tokBob, "job", "check", "e2e-1", "1"), "[x] 1. power off, then swap")
	_, errOut, code = cli(t, as(tokAlice), "complete", "e2e-1")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "requires evidence")
	_, errOut, code = cli(t, as(tokCarol), "complete", "e2e-1", "--evidence-url", "https://t/1")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "not an assignee")
	ok(tokAlice, "complete", "e2e-1", "--message", "swapped", "--evidence-url", "https://tickets.example.com/42")

	ok(tokCI, "gate", "e2e-1", "--kind", "approval", "--name", "Go live", "--required", "2")
	ok(tokAlice, "approve", "e2e-1", "--message", "lgtm")
	_, errOut, code = cli(t, as(tokAlice), "approve", "e2e-1")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "already approved")
	out := ok(tokBob, "approve", "e2e-1")
	require.Contains(t, out, "e2e-1 is in_progress")

	ok(tokCI, "gate", "e2e-1", "--kind", "pause", "--name", "Change window")
	ok(tokCarol, "resume", "e2e-1")
	status, body := api(t, "PATCH", srv.url()+"/v1/jobs/e2e-1", tokCI, map[string]any{"status": "successful", "message": "deployed"})
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, "successful", body["status"])

	before := showJob(t, as(tokCI), "e2e-1")
	logBefore := ok(tokCI, "job", "log", "e2e-1", "--output", "json")
	_, metrics := httpGet(t, srv.url()+"/metrics")
	srv.stop()
	for _, secret := range allTokens {
		require.NotContains(t, srv.logs.String(), secret, "a token leaked into the logs")
		require.NotContains(t, metrics, secret, "a token leaked into /metrics")
	}

	srv = startServer(t, senv, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg)
	after := showJob(t, []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tokCI}, "e2e-1")
	require.Equal(t, before, after, "job changed across restart")
	require.Equal(t, jobs.StatusSuccessful, after.Status)
	require.Len(t, after.Gates, 3)
	require.Equal(t, "alice", *after.Gates[0].ResolvedBy)
	require.Equal(t, "cli", *after.Gates[0].ResolvedVia)
	require.Equal(t, "https://tickets.example.com/42", after.Gates[0].Evidence.URL)
	require.Equal(t, "Replace the disk in node-7", after.Gates[0].Description)
	require.Len(t, after.Gates[1].Approvals, 2)
	require.Equal(t, jobs.OutcomeResumed, *after.Gates[2].Outcome)
	logAfter, _, _ := cli(t, []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tokCI}, "job", "log", "e2e-1", "--output", "json")
	require.Equal(t, logBefore, logAfter)
	require.GreaterOrEqual(t, strings.Count(logAfter, "\n"), 10)
	srv.stop()
}

func showJob(t *testing.T, env []string, id string) *jobs.Job {
	t.Helper()
	out, errOut, code := cli(t, env, "job", "show", id, "--output", "json")
	require.Equal(t, 0, code, errOut)
	var j jobs.Job
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	return &j
}

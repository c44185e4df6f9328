package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

// TestServe_Newcomer drives issue 18 through the real binary: cla gate's
// full flag set and --file, unknown assignees refused with a hint, 403s
// that say what would allow the action, and break-glass from the CLI and
// the API with its record on the gate, in the log and in the monitor.
func TestServe_Newcomer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	srv := startServer(t, []string{"E2E_CI_TOKEN=" + tokCI}, "--db", db, "--addr", "127.0.0.1:0", "--config", testConfig(t, dir))
	as := func(tok string) []string { return []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tok} }
	ok := func(tok string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, as(tok), args...)
		require.Equal(t, 0, code, "cla %v: %s%s", args, out, errOut)
		return out
	}
	refused := func(tok string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, as(tok), args...)
		require.Equal(t, exitError, code, "cla %v: %s%s", args, out, errOut)
		return errOut
	}
	ok(tokCI, "job", "create", "--id", "n-1", "--name", "Deploy")

	t.Run("flag parity", func(t *testing.T) {
		ok(tokCI, "gate", "n-1", "--kind", "action", "--name", "Update DNS", "--assignee", "ops",
			"--reminder-interval", "1h", "--max-reminders", "2", "--escalate-after", "4h", "--escalate-to", "root",
			"--escalate-after", "8h", "--escalate-to", "carol", "--escalate-to", "bob",
			"--checklist", "record changed", "--allow-partial-checklist")
		g := showJob(t, as(tokCI), "n-1").OpenGate()
		require.NotNil(t, g)
		require.Equal(t, &jobs.Reminder{Interval: "1h", MaxReminders: 2}, g.Reminder)
		require.Equal(t, []jobs.Escalation{{After: "4h", Assignees: []string{"root"}}, {After: "8h", Assignees: []string{"carol", "bob"}}}, g.Escalation)
		require.True(t, g.AllowPartial)
		ok(tokAlice, "complete", "n-1", "--message", "done, checklist skipped")
	})
	t.Run("escalate-to before escalate-after is a usage error", func(t *testing.T) {
		errOut := refused(tokCI, "gate", "n-1", "--kind", "action", "--name", "x", "--escalate-to", "root")
		require.Contains(t, errOut, "give --escalate-after DURATION before --escalate-to")
	})
	t.Run("gate from a YAML file, flags override", func(t *testing.T) {
		file := filepath.Join(dir, "gate.yaml")
		require.NoError(t, os.WriteFile(file, []byte("kind: approval\nname: Go live\nrequired: 2\nassignees: [ops]\n"+
			"reminder:\n  cron: \"0 9 * * MON-FRI\"\n  maxReminders: 1\n"), 0o600))
		ok(tokCI, "gate", "n-1", "--file", file, "--name", "Go live (eu)")
		g := showJob(t, as(tokCI), "n-1").OpenGate()
		require.Equal(t, "Go live (eu)", g.Name)
		require.Equal(t, 2, g.Required)
		require.Equal(t, "0 9 * * MON-FRI", g.Reminder.Cron)
		bad := filepath.Join(dir, "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte("kind: approval\nname: x\nasignees: [ops]\n"), 0o600))
		require.Contains(t, refused(tokCI, "gate", "n-2", "--file", bad), `unknown field "asignees"`)
	})
	t.Run("refusals teach", func(t *testing.T) {
		ok(tokAlice, "job", "create", "--id", "n-3", "--name", "Alice's deploy")
		ok(tokCI, "gate", "n-3", "--kind", "approval", "--name", "Go", "--assignee", "ops")
		errOut := refused(tokAlice, "approve", "n-3")
		require.Contains(t, errOut, "alice requested job n-3 and may not approve it")
		require.Contains(t, errOut, "\nhint: someone else must approve; or open the gate with --allow-self-approval")
		errOut = refused(tokCarol, "approve", "n-1")
		require.Contains(t, errOut, "hint: ask an assignee, or have the gate reassigned to you")
	})
	t.Run("break-glass", func(t *testing.T) {
		require.Contains(t, refused(tokRoot, "approve", "n-1", "--break-glass"), "--break-glass needs --reason TEXT")
		require.Contains(t, refused(tokCarol, "approve", "n-1", "--break-glass", "--reason", "x"), "only admins may break glass")
		out := ok(tokRoot, "approve", "n-1", "--break-glass", "--reason", "release manager out sick")
		require.Contains(t, out, "BREAK-GLASS by root: \"release manager out sick\"")
		job := showJob(t, as(tokCI), "n-1")
		g := job.LastGate()
		require.Equal(t, jobs.OutcomeApproved, *g.Outcome)
		require.Equal(t, "release manager out sick", g.BreakGlass.Reason)
		require.Contains(t, ok(tokCI, "job", "log", "n-1"), "break-glass by root on approval gate")

		ok(tokCI, "gate", "n-1", "--kind", "pause", "--name", "Window")
		status, body := api(t, "POST", srv.url()+"/v1/jobs/n-1/resume", tokRoot, map[string]any{"breakGlass": map[string]any{"reason": "window moved"}})
		require.Equal(t, 200, status, "%v", body)
		g = showJob(t, as(tokCI), "n-1").LastGate()
		require.Equal(t, "window moved", g.BreakGlass.Reason)
		require.Equal(t, "api", g.BreakGlass.Via)
	})
	t.Run("unknown assignee", func(t *testing.T) {
		status, body := api(t, "POST", srv.url()+"/v1/jobs/n-1/gates", tokCI, map[string]any{"kind": "action", "name": "x", "assignees": []string{"nobody-team"}})
		require.Equal(t, 400, status)
		require.Contains(t, body["error"], `"nobody-team" matches no identity`)
		require.Contains(t, body["hint"], "allowUnknownAssignees")
		errOut := refused(tokCI, "gate", "n-1", "--kind", "action", "--name", "x", "--assignee", "nobody-team")
		require.Contains(t, errOut, "hint: name a configured identity or group")
		require.Nil(t, showJob(t, as(tokCI), "n-1").OpenGate(), "nothing opened")
		ok(tokCI, "gate", "n-1", "--kind", "action", "--name", "x", "--assignee", "nobody-team", "--allow-unknown-assignees")
		ok(tokCI, "job", "create", "--id", "n-2", "--name", "Email assignee")
		ok(tokCI, "gate", "n-2", "--kind", "action", "--name", "x", "--assignee", "someone@example.com")
	})
	srv.stop()
}

// TestCLI_TokenFromAnyDirectory: serve records where its admin token is,
// so the CLI finds it from a directory that holds no cla.token.
func TestCLI_TokenFromAnyDirectory(t *testing.T) {
	dir, conf := t.TempDir(), t.TempDir()
	db := filepath.Join(dir, "data", "cla.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o700))
	srv := startServer(t, []string{"XDG_CONFIG_HOME=" + conf}, "--db", db, "--addr", "127.0.0.1:0")
	pointer, err := os.ReadFile(filepath.Join(conf, "cla", "token-path"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "data", "cla.token")+"\n", string(pointer), "the pointer holds a path, not the token")
	env := []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=", "XDG_CONFIG_HOME=" + conf}
	out, errOut, code := cli(t, env, "job", "create", "--id", "t-1", "--name", "x", "--db", filepath.Join(t.TempDir(), "cla.db"))
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "t-1\n", out)
	srv.stop()
}

// TestQuickStart_FilesIgnored: every file the quick start's `cla serve`
// leaves next to its database is covered by the repository's .gitignore.
func TestQuickStart_FilesIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	srv := startServer(t, nil, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0")
	srv.stop()
	made, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, made)
	ignore, err := os.ReadFile("../../.gitignore")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), ignore, 0o600))
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return string(out)
	}
	git("init", "-q")
	require.Equal(t, "?? .gitignore\n", git("status", "--porcelain", "--untracked-files=all"),
		"files the quick start made that git would offer to commit")
}

package main

import (
	"bytes"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bgCLI is a cla command running in the background.
type bgCLI struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan int
}

func startCLI(t *testing.T, env []string, args ...string) *bgCLI {
	t.Helper()
	b := &bgCLI{cmd: exec.Command(claBin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	require.NoError(t, b.cmd.Start())
	go func() {
		_ = b.cmd.Wait()
		b.done <- b.cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

func (b *bgCLI) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-b.done:
		return code
	case <-time.After(e2eBudget):
		t.Fatalf("cla did not exit; stderr:\n%s", b.stderr.String())
		return -1
	}
}

// stableAddr returns a free loopback address whose port is below the
// kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range).
func stableAddr(t *testing.T) string {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				low = n
			}
		}
	}
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(1024+rand.IntN(low-1024)))
		if ln, err := net.Listen("tcp", addr); err == nil {
			require.NoError(t, ln.Close())
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// gateOpen polls the job until it has an open gate (with a deadline).
func gateOpen(t *testing.T, url, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		status, body := api(t, "GET", url+"/v1/jobs/"+id, tokCI, nil)
		return status == 200 && body["status"] != "in_progress" && body["status"] != "pending"
	}, e2eBudget, 5*time.Millisecond)
}

// TestGate_WaitSurvivesRestart: "cla gate --wait" keeps waiting while the
// server restarts, then exits 0 on approval, 1 on rejection, 2 on errors.
func TestGate_WaitSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	cfg := testConfig(t, dir)
	senv := []string{"E2E_CI_TOKEN=" + tokCI}
	// The server comes back on the same address: one outside the kernel's
	// ephemeral range, which no :0 listener and no outgoing connection
	// (not even the waiter's own retries, connecting to itself) can take
	// while it is down.
	addr := stableAddr(t)
	srv := startServer(t, senv, "--db", db, "--addr", addr, "--config", cfg)
	ci := []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN=" + tokCI}
	for _, id := range []string{"w-1", "w-2"} {
		_, errOut, code := cli(t, ci, "job", "create", "--id", id, "--name", "wait test")
		require.Equal(t, 0, code, errOut)
	}

	waiter := startCLI(t, ci, "gate", "w-1", "--kind", "approval", "--name", "Go live", "--wait")
	gateOpen(t, srv.url(), "w-1")
	srv.stop()
	require.Eventually(t, func() bool { return strings.Contains(waiter.stderr.String(), "server unreachable") },
		e2eBudget, 10*time.Millisecond, "no progress note: %s", waiter.stderr.String())
	srv = startServer(t, senv, "--db", db, "--addr", addr, "--config", cfg)
	status, body := api(t, "POST", srv.url()+"/v1/jobs/w-1/approve", tokAlice, map[string]any{"message": "go"})
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, exitOK, waiter.exit(t), "stderr: %s", waiter.stderr.String())
	require.Contains(t, waiter.stdout.String(), "approved by alice")
	require.Contains(t, waiter.stderr.String(), "server is back")

	t.Run("rejected exits 1", func(t *testing.T) {
		w := startCLI(t, ci, "gate", "w-2", "--kind", "approval", "--name", "Go live", "--wait")
		gateOpen(t, srv.url(), "w-2")
		status, _ := api(t, "POST", srv.url()+"/v1/jobs/w-2/reject", tokBob, map[string]any{"message": "no"})
		require.Equal(t, 200, status)
		require.Equal(t, exitFailed, w.exit(t))
	})
	t.Run("errors exit 2", func(t *testing.T) {
		_, errOut, code := cli(t, ci, "gate", "nope", "--kind", "action", "--name", "x", "--wait")
		require.Equal(t, exitError, code)
		require.Contains(t, errOut, "not_found")
		_, errOut, code = cli(t, ci, "gate", "w-2", "--name", "x", "--wait")
		require.Equal(t, exitError, code)
		require.Contains(t, errOut, "--kind")
	})
	t.Run("wait on a finished job", func(t *testing.T) {
		out, _, code := cli(t, ci, "wait", "w-2")
		require.Equal(t, exitFailed, code)
		require.Contains(t, out, "w-2 is rejected")
	})
	srv.stop()
}

// TestServe_Shutdown: SIGTERM with a long-poll in flight exits 0 quickly,
// and the database reopens cleanly.
func TestServe_Shutdown(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	srv := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0", "--sandbox=false")
	tokenFile := filepath.Join(dir, "cla.token")
	info, err := os.Stat(tokenFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	token, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	require.NotContains(t, srv.logs.String(), strings.TrimSpace(string(token)), "the admin token must not be logged")
	require.Contains(t, srv.logs.String(), "slack is off")
	require.NotContains(t, srv.logs.String(), "sandbox Slack", "--sandbox=false turns the sandbox off")
	code, health := httpGet(t, srv.url()+"/healthz")
	require.Equal(t, 200, code)
	require.Contains(t, health, `"slack":"off"`)

	// The CLI finds cla.token next to --db by itself.
	env := []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN="}
	_, errOut, code := cli(t, env, "job", "create", "--id", "s-1", "--name", "shutdown", "--db", db)
	require.Equal(t, 0, code, errOut)
	elsewhere := filepath.Join(t.TempDir(), "cla.db")
	_, errOut, code = cli(t, env, "job", "show", "s-1", "--db", elsewhere)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "no API token.\nPass --token TOKEN or set CLA_TOKEN")
	require.Contains(t, errOut, "no token file at "+tokenPath(elsewhere))
	_, errOut, code = cli(t, env, "job", "show", "s-1", "--token", "wrong")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "the server refused the token from --token")

	poll := startCLI(t, append(env, "CLA_DB="+db), "wait", "s-1")
	require.Eventually(t, func() bool {
		_, m := httpGet(t, srv.url()+"/metrics")
		return strings.Contains(m, "\ncla_http_waiting 1\n")
	}, e2eBudget, 5*time.Millisecond)
	start := time.Now()
	srv.stop()
	require.Less(t, time.Since(start), 10*time.Second)
	_ = poll.cmd.Process.Kill()

	// Reopen: the same token, the same job.
	srv = startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0")
	var out bytes.Buffer
	o, errOut, code := cli(t, []string{"CLA_SERVER=" + srv.url(), "CLA_DB=" + db, "CLA_TOKEN="}, "job", "show", "s-1")
	out.WriteString(o)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out.String(), "s-1  shutdown")
	require.Contains(t, srv.logs.String(), "using the admin token in")
	srv.stop()
}

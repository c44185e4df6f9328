package talkback

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperAction builds a one-action allowlist that runs the test binary in
// the given helper mode.
func helperAction(t *testing.T, mode, extra string, env map[string]string) *Allowlist {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	envYAML := fmt.Sprintf("TALKBACK_HELPER: %s", mode)
	for k, v := range env {
		envYAML += fmt.Sprintf(", %s: %q", k, v)
	}
	src := fmt.Sprintf(`actions:
  - name: probe
    command: [%q, "{{.args.msg}}", "fixed", "--x={{.args.msg}}", "{{.job.id}}"]
    args:
      msg: { pattern: "(?s).*", default: "none" }
    env: { %s }
%s`, exe, envYAML, extra)
	l, err := Parse(filepath.Join(t.TempDir(), "talkback.yaml"), []byte(src))
	require.NoError(t, err)
	return l
}

func prepare(t *testing.T, l *Allowlist, args map[string]string) *Invocation {
	t.Helper()
	inv, err := l.Prepare(Request{Action: "probe", Args: args}, Env{Job: Job{ID: "qa-1"}})
	require.NoError(t, err)
	return inv
}

func TestExecutor_Run_Injection(t *testing.T) {
	payloads := []string{"; rm -rf /", "$(touch pwned)", "`touch pwned`", "a\ntouch pwned", "x && touch pwned",
		"'\"; touch pwned #", "${IFS}touch${IFS}pwned", "* ?", "a\x1b[2Jb", "| touch pwned"}
	ex := NewExecutor(ExecutorConfig{})
	for _, p := range payloads {
		t.Run(strconv.Quote(p), func(t *testing.T) {
			dir := t.TempDir()
			record := filepath.Join(dir, "argv.json")
			l := helperAction(t, "argv", "    workdir: "+strconv.Quote(dir)+"\n", map[string]string{"RECORD": record})
			res, err := ex.Run(context.Background(), "qa-1", prepare(t, l, map[string]string{"msg": p}))
			require.NoError(t, err)
			require.True(t, res.OK(), res.Summary())
			var got struct {
				Argv []string
				Env  []string
				Wd   string
			}
			data, err := os.ReadFile(record)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &got))
			require.Equal(t, []string{"fixed", p, "--x=" + p, "qa-1"}, []string{got.Argv[2], got.Argv[1], got.Argv[3], got.Argv[4]})
			require.Len(t, got.Argv, 5)
			require.Equal(t, dir, got.Wd)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only argv.json may exist; no pwned file")
		})
	}
}

func TestExecutor_Run_FlagSmuggling(t *testing.T) {
	l := helperAction(t, "argv", "", nil)
	for _, p := range []string{"--flag", "-rf", "--x=1", "-"} {
		t.Run(p, func(t *testing.T) {
			inv, err := l.Prepare(Request{Action: "probe", Args: map[string]string{"msg": p}}, Env{})
			require.Nil(t, inv, "nothing to run")
			_, ok := IsRefusal(err)
			require.True(t, ok, "%v", err)
		})
	}
}

func TestExecutor_Run_Environment(t *testing.T) {
	t.Setenv("CLA_SECRET_SHOULD_NOT_LEAK", "x")
	record := filepath.Join(t.TempDir(), "argv.json")
	l := helperAction(t, "argv", "", map[string]string{"RECORD": record, "GREETING": "hi there"})
	ex := NewExecutor(ExecutorConfig{Path: "/usr/bin:/bin"})
	res, err := ex.Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err)
	require.Equal(t, "recorded\n", res.Output)
	var got struct{ Env []string }
	data, err := os.ReadFile(record)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &got))
	require.ElementsMatch(t, []string{"PATH=/usr/bin:/bin", "GREETING=hi there", "RECORD=" + record, "TALKBACK_HELPER=argv"}, got.Env)
}

func TestExecutor_Run_ExitCode(t *testing.T) {
	l := helperAction(t, "exit", "", map[string]string{"CODE": "3"})
	res, err := NewExecutor(ExecutorConfig{}).Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err)
	require.Equal(t, 3, res.ExitCode)
	require.False(t, res.OK())
	require.Equal(t, "bye\n", res.Text())
	require.Contains(t, res.Summary(), "exit 3 after")
	require.False(t, res.Started.IsZero())
}

func TestExecutor_Run_ProgramNotFound(t *testing.T) {
	l, err := Parse("f.yaml", []byte("actions:\n  - name: probe\n    command: [no-such-program-xyz]\n"))
	require.NoError(t, err)
	inv, err := l.Prepare(Request{Action: "probe"}, Env{})
	require.NoError(t, err)
	_, err = NewExecutor(ExecutorConfig{}).Run(context.Background(), "qa-1", inv)
	require.ErrorContains(t, err, "find program no-such-program-xyz: not in PATH")
	_, refused := IsRefusal(err)
	require.False(t, refused, "a broken allowlist is not the user's fault")
}

func TestExecutor_Run_TimeoutKillsGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	l := helperAction(t, "tree", "    timeout: 2s\n", map[string]string{"PIDFILE": pidfile})
	inv := prepare(t, l, nil) // in the test goroutine: prepare may call t.FailNow
	require.Equal(t, 2*time.Second, inv.Timeout)
	// The timeout passes once the child is known to run: a loaded machine
	// may take longer than 2s to start the helper and its child, and the
	// group must be killed with both in it.
	expired, waited := make(chan time.Time, 1), make(chan time.Duration, 1)
	ex := NewExecutor(ExecutorConfig{})
	ex.expire = func(d time.Duration) <-chan time.Time { waited <- d; return expired }
	done := make(chan runResult, 1)
	go func() {
		res, err := ex.Run(context.Background(), "qa-1", inv)
		done <- runResult{res, err}
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidfile); return err == nil }, 60*time.Second, 10*time.Millisecond,
		"the helper's child never started")
	select {
	case d := <-waited:
		require.Equal(t, 2*time.Second, d, "the action's timeout is what is waited for")
	case <-time.After(60 * time.Second):
		t.Fatal("the command's timeout was never armed")
	}
	expired <- time.Now()
	res := recvResult(t, done)
	require.True(t, res.TimedOut)
	require.Equal(t, -1, res.ExitCode)
	require.Contains(t, res.Summary(), "timed out")
	data, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(string(data))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return processGone(pid) }, 60*time.Second, 10*time.Millisecond,
		"child %d survived the timeout", pid)
}

// TestExecutor_Run_TimeoutClock: without a test's hand on it, the timeout
// is a real timer that ends a command that would run for an hour, never
// before the action's timeout.
func TestExecutor_Run_TimeoutClock(t *testing.T) {
	l := helperAction(t, "sleeper", "    timeout: 1s\n", map[string]string{"PIDFILE": filepath.Join(t.TempDir(), "pid")})
	res, err := NewExecutor(ExecutorConfig{}).Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err)
	require.True(t, res.TimedOut)
	require.False(t, res.Canceled)
	require.GreaterOrEqual(t, res.Duration, time.Second)
}

func TestExecutor_Run_LeftoverChildIsKilled(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	l := helperAction(t, "orphan", "", map[string]string{"PIDFILE": pidfile})
	res, err := NewExecutor(ExecutorConfig{}).Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err)
	require.True(t, res.OK(), res.Summary())
	data, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, _ := strconv.Atoi(string(data))
	require.Eventually(t, func() bool { return processGone(pid) }, 60*time.Second, 10*time.Millisecond)
}

func TestExecutor_Run_OutputCapped(t *testing.T) {
	l := helperAction(t, "flood", "    maxOutput: 1000\n", nil)
	res, err := NewExecutor(ExecutorConfig{}).Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "the flooding command ran to the end")
	require.Len(t, res.Output, 1000)
	require.True(t, res.Truncated)
	require.EqualValues(t, 160*64<<10-1000, res.Dropped)
	require.Contains(t, res.Text(), fmt.Sprintf("[output truncated: %d more bytes dropped]", res.Dropped))
}

func TestExecutor_Run_Canceled(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	l := helperAction(t, "tree", "", map[string]string{"PIDFILE": pidfile})
	ctx, cancel := context.WithCancel(context.Background())
	inv := prepare(t, l, nil) // in the test goroutine: prepare may call t.FailNow
	done := make(chan runResult, 1)
	go func() {
		res, err := NewExecutor(ExecutorConfig{}).Run(ctx, "qa-1", inv)
		done <- runResult{res, err}
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidfile); return err == nil }, 60*time.Second, 10*time.Millisecond)
	cancel()
	res := recvResult(t, done)
	require.True(t, res.Canceled)
	require.False(t, res.TimedOut)
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

const oneAction = `actions:
  - name: greet
    command: ["echo", "hi"]
`

// TestServe_TalkbackFile: a bad allowlist stops serve naming file and
// line; SIGHUP reloads, and a bad edit keeps the previous list in force.
func TestServe_TalkbackFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "talkback.yaml")
	require.NoError(t, os.WriteFile(file, []byte("actions:\n  - name: greet\n    command: [echo]\n    when: 'usr.name == \"x\"'\n"), 0o600))
	_, stderr, code := cli(t, nil, "serve", "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--talkback", file)
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "talkback.yaml:4:", "the error names the file and line")
	require.Contains(t, stderr, "usr")

	require.NoError(t, os.WriteFile(file, []byte(oneAction), 0o600))
	srv := startServer(t, nil, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0", "--talkback", file)
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()

	require.NoError(t, os.WriteFile(file, []byte("actions: [{name: x}]\n"), 0o600))
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, ctx, func() bool { return strings.Contains(srv.logs.String(), "talkback reload refused") })

	require.NoError(t, os.WriteFile(file, []byte(oneAction+"  - name: bye\n    command: [echo, bye]\n"), 0o600))
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, ctx, func() bool { return strings.Contains(srv.logs.String(), "actions=2") })
	srv.stop()

	plain := startServer(t, nil, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0")
	require.NoError(t, plain.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, ctx, func() bool { return strings.Contains(plain.logs.String(), "nothing to reload") })
	plain.stop() // still running, and stops cleanly
}

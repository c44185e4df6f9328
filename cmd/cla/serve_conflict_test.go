package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServe_AlreadyRunning: a second serve on the same database, or on the
// same port, says what is wrong and what to do, rather than "timeout".
func TestServe_AlreadyRunning(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	noSlack := []string{"SLACK_APP_TOKEN=", "SLACK_BOT_TOKEN="}
	srv := startServer(t, noSlack, "--db", db, "--addr", "127.0.0.1:0")

	_, stderr, code := cli(t, noSlack, "serve", "--db", db, "--addr", "127.0.0.1:0")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "another process holds it (a cla serve already running here?)")
	require.Contains(t, stderr, "--db")

	_, stderr, code = cli(t, noSlack, "serve", "--db", filepath.Join(t.TempDir(), "cla.db"), "--addr", srv.addr)
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "the port is taken (another cla serve?): pass another with --addr")
	srv.stop()
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTalkback_Check(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(`actions:
  - name: restart
    description: Restart one service
    command: ["systemctl", "restart", "{{.args.service}}"]
    args:
      service: { pattern: "^[a-z0-9-]{1,40}$", required: true }
`), 0o600))
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("actions:\n  - name: x\n    when: 'nosuchthing.field == 1'\n"), 0o600))
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"good", []string{"talkback", "check", good}, exitOK, "good.yaml: ok"},
		{"bad", []string{"talkback", "check", bad}, exitFailed, "bad.yaml:"},
		{"missing", []string{"talkback", "check", filepath.Join(dir, "nope.yaml")}, exitError, "no such file"},
		{"usage", []string{"talkback", "check"}, exitError, "talkback check: missing the file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := testEnv(nil)
			require.Equal(t, tc.code, run(t.Context(), tc.args, e))
			all := e.stdout.(*bytes.Buffer).String() + e.stderr.(*bytes.Buffer).String()
			require.Contains(t, all, tc.out)
		})
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServeConfig_SecurityRefusals: issue 17 items 12 and 18.
func TestServeConfig_SecurityRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	const secret = "hunter2-very-secret"
	cases := []struct {
		name, yaml, want string
	}{
		{"identity named cla", "identities: [{name: cla, token: t}]\n", `the name "cla" is reserved for cla itself`},
		{"identity named CLA", "identities: [{name: CLA, token: t}]\n", `reserved for cla itself`},
		{"secret in an int field", "notify:\n  email: {host: h, from: f@x, port: ${SMTP_PASSWORD}}\n", "a value from ${SMTP_PASSWORD}"},
		{"secret in a bool field", "notify:\n  email: {host: h, from: f@x, starttls: ${SMTP_PASSWORD}}\n", "a value from ${SMTP_PASSWORD}"},
		{"bad limit", "limits: {minReminderInterval: soon}\n", `limits.minReminderInterval "soon" must be a positive duration`},
		{"negative limit", "limits: {gatesPerMinute: -1}\n", "limits.gatesPerMinute must not be negative"},
		{"body timeout over a minute", "limits: {bodyTimeout: 2m}\n", "limits.bodyTimeout 2m0s exceeds 60s"},
		{"secret in a list field", "identities:\n  - {name: a, groups: ${SMTP_PASSWORD}}\n", "a value from ${SMTP_PASSWORD}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := testEnv(map[string]string{"SMTP_PASSWORD": secret})
			_, code, ok := serveConfig(e, []string{"--config", write("c.yaml", tc.yaml)})
			stderr := e.stderr.(*bytes.Buffer).String()
			require.False(t, ok)
			require.Equal(t, exitError, code)
			require.Contains(t, stderr, tc.want)
			require.NotContains(t, stderr, secret[:7], "an expanded value was echoed")
		})
	}
	t.Run("a literal mistake still shows its value", func(t *testing.T) {
		e := testEnv(nil)
		_, _, ok := serveConfig(e, []string{"--config", write("p.yaml", "notify:\n  email: {host: h, from: f@x, port: eighty}\n")})
		require.False(t, ok)
		require.Contains(t, e.stderr.(*bytes.Buffer).String(), "eighty")
	})
}

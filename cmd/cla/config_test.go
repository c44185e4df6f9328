package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/config"
	"github.com/stretchr/testify/require"
)

func testEnv(vars map[string]string) *env {
	return &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, lookupEnv: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
}

// TestServeConfig_Layers checks serve's wiring of the layers (package
// config tests the layers themselves): --config and CLA_CONFIG name the
// file, flags win over the environment, and a bad setting exits 2.
func TestServeConfig_Layers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cla.yaml")
	require.NoError(t, os.WriteFile(path, []byte("db: data/cla.db\naddr: 127.0.0.1:9000\nidentities: [{name: a, token: ${A_TOKEN}}]\n"), 0o600))
	cases := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c *config.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c *config.Config) { require.Equal(t, "cla.db", c.DB) }},
		{name: "config flag", vars: map[string]string{"A_TOKEN": "t"}, args: []string{"--config", path}, check: func(t *testing.T, c *config.Config) {
			require.Equal(t, filepath.Join(dir, "data", "cla.db"), c.DB)
			require.Equal(t, "127.0.0.1:9000", c.Addr)
		}},
		{name: "CLA_CONFIG, env and flags", vars: map[string]string{"A_TOKEN": "t", "CLA_CONFIG": path, "CLA_ADDR": "127.0.0.1:7000", "CLA_DB": "env.db"},
			args: []string{"--addr", "127.0.0.1:0"}, check: func(t *testing.T, c *config.Config) {
				require.Equal(t, "env.db", c.DB)
				require.Equal(t, "127.0.0.1:0", c.Addr)
			}},
		{name: "missing env var", args: []string{"--config", path}, wantErr: "A_TOKEN is not set"},
		{name: "bad flag value", args: []string{"--log-level", "loud"}, wantErr: "serve: bad configuration:\nlog level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := testEnv(tc.vars)
			cfg, code, ok := serveConfig(e, tc.args)
			stderr := e.stderr.(*bytes.Buffer).String()
			if tc.wantErr != "" {
				require.False(t, ok)
				require.Equal(t, exitError, code)
				require.Contains(t, stderr, tc.wantErr)
				return
			}
			require.True(t, ok, stderr)
			tc.check(t, cfg)
		})
	}
}

func TestRun_Dispatch(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string
	}{
		{nil, exitError, "Commands:"},
		{[]string{"--help"}, exitOK, "Examples:"},
		{[]string{"gatee"}, exitError, `did you mean "gate"`},
		{[]string{"aprove"}, exitError, `did you mean "approve"`},
		{[]string{"show"}, exitError, `did you mean "cla job show"`},
		{[]string{"job", "shw"}, exitError, `did you mean "show"`},
		{[]string{"decide", "qa-1", "retyr"}, exitError, `did you mean "retry"`},
		{[]string{"complete"}, exitError, "complete: missing the job id\nUsage: cla complete <job> "},
		{[]string{"job", "show", "qa-1", "extra"}, exitError, `job show: unexpected argument "extra"`},
		{[]string{"decide", "qa-1"}, exitError, "missing an argument: one of retry, skip or abort"},
		{[]string{"job", "check", "qa-1"}, exitError, "missing the item number"},
		{[]string{"complete", "--bogus", "x"}, exitError, "complete: unknown flag --bogus\nUsage:"},
		{[]string{"job", "list", "--limit", "abc"}, exitError, `--limit must be a whole number, not "abc"`},
		{[]string{"wait", "qa-1", "--max-wait", "soon"}, exitError, `--max-wait must be a duration like 90s, 15m or 4h, not "soon"`},
		{[]string{"gate", "qa-1", "--kind"}, exitError, "--kind needs a value"},
		{[]string{"gate", "qa-1", "--name", "x"}, exitError, "--kind and --name are required"},
		{[]string{"talkback", "chek"}, exitError, `did you mean "check"`},
		{[]string{"job", "list", "--output", "yaml"}, exitError, "--output must be text or json"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			e := testEnv(map[string]string{"CLA_SERVER": "http://127.0.0.1:1"})
			code := run(t.Context(), tc.args, e)
			require.Equal(t, tc.code, code)
			all := e.stdout.(*bytes.Buffer).String() + e.stderr.(*bytes.Buffer).String()
			require.Contains(t, all, tc.out)
		})
	}
}

// TestRun_Help checks every subcommand's --help: exit 0, usage and an
// example, on stdout.
func TestRun_Help(t *testing.T) {
	var names [][]string
	for _, c := range commands() {
		if c.name != "job" && c.name != "run" {
			names = append(names, []string{c.name})
		}
	}
	for _, v := range jobVerbs {
		names = append(names, []string{"job", v.name})
	}
	for _, v := range freezeVerbs {
		names = append(names, []string{"freeze", v.name})
	}
	names = append(names, []string{"talkback", "check"})
	for _, n := range names {
		t.Run(strings.Join(n, " "), func(t *testing.T) {
			e := testEnv(nil)
			require.Equal(t, exitOK, run(t.Context(), append(n, "--help"), e))
			out := e.stdout.(*bytes.Buffer).String()
			require.Contains(t, out, "Usage:")
			require.Contains(t, out, "Examples:")
			require.Empty(t, e.stderr.(*bytes.Buffer).String())
		})
	}
}

func TestParse_Interspersed(t *testing.T) {
	e := testEnv(nil)
	fs := newFlags(e, "x", help{})
	kind := fs.String("kind", "", "")
	var a listFlag
	fs.Var(&a, "assignee", "")
	pos, _, ok := parse(e, fs, []string{"--kind", "action", "qa-1", "--assignee", "a,b", "--assignee", "c", "--", "--literal"}, -1)
	require.True(t, ok)
	require.Equal(t, []string{"qa-1", "--literal"}, pos)
	require.Equal(t, "action", *kind)
	require.Equal(t, listFlag{"a", "b", "c"}, a)
}

func TestConnectionError_Message(t *testing.T) {
	e := testEnv(map[string]string{"CLA_SERVER": "http://127.0.0.1:1", "CLA_TOKEN": "x"})
	code := run(t.Context(), []string{"job", "show", "qa-1"}, e)
	require.Equal(t, exitError, code)
	out := e.stderr.(*bytes.Buffer).String()
	require.Contains(t, out, "cannot reach the cla server at http://127.0.0.1:1 (dial tcp 127.0.0.1:1: connect: connection refused)")
	require.NotContains(t, out, "/v1/jobs", "the request URL is noise here")
	require.Contains(t, out, "Point --server or CLA_SERVER at it")
}

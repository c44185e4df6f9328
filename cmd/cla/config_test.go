package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func testEnv(vars map[string]string) *env {
	return &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, lookupEnv: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
}

func TestServeConfig_Layers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	pwFile := write("pw", "smtp-pass\n")
	good := write("good.yaml", `
db: from-yaml.db
addr: 127.0.0.1:9000
identities:
  - name: alice
    token: ${ALICE_TOKEN}
    groups: [ops]
  - name: bob
    sha256: `+sha256hex("bob")+`
notify:
  email: {host: smtp.example.com, port: ${SMTP_PORT}, from: cla@example.com, passwordFile: `+pwFile+`, starttls: true}
  webhook: {secret: "${HOOK_SECRET}"}
`)
	cases := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults", check: func(t *testing.T, c *Config) {
			require.Equal(t, "cla.db", c.DB)
			require.Equal(t, "127.0.0.1:8080", c.Addr)
			require.False(t, c.Slack.Enabled())
		}},
		{name: "yaml with env and files", vars: map[string]string{"ALICE_TOKEN": "a1: #x, {y} null", "SMTP_PORT": "2525", "HOOK_SECRET": "h"},
			args: []string{"--config", good}, check: func(t *testing.T, c *Config) {
				require.Equal(t, "from-yaml.db", c.DB)
				require.Equal(t, Secret("a1: #x, {y} null"), c.Identities[0].Token)
				require.Equal(t, 2525, c.Notify.Email.Port)
				require.Equal(t, Secret("smtp-pass"), c.Notify.Email.Password)
				require.Equal(t, Secret("h"), c.Notify.Webhook.Secret)
			}},
		{name: "env over yaml, flags over env", vars: map[string]string{"ALICE_TOKEN": "a1", "SMTP_PORT": "25", "HOOK_SECRET": "h",
			"CLA_CONFIG": good, "CLA_DB": "env.db", "CLA_ADDR": "127.0.0.1:7000"},
			args: []string{"--addr", "127.0.0.1:0"}, check: func(t *testing.T, c *Config) {
				require.Equal(t, "env.db", c.DB)
				require.Equal(t, "127.0.0.1:0", c.Addr)
			}},
		{name: "slack from env", vars: map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-2", "SLACK_API_URL": "http://127.0.0.1:1/api/"},
			check: func(t *testing.T, c *Config) { require.True(t, c.Slack.Enabled()) }},
		{name: "missing env var", args: []string{"--config", good}, wantErr: "ALICE_TOKEN is not set"},
		{name: "unknown key", args: []string{"--config", write("typo.yaml", "adr: x\n")}, wantErr: "field adr not found"},
		{name: "half slack", vars: map[string]string{"SLACK_BOT_TOKEN": "xoxb-2"}, wantErr: "both SLACK_APP_TOKEN"},
		{name: "wrong slack prefix", vars: map[string]string{"SLACK_APP_TOKEN": "xoxb-1", "SLACK_BOT_TOKEN": "xoxb-2"}, wantErr: "xapp-"},
		{name: "api url slash", vars: map[string]string{"SLACK_API_URL": "http://x/api"}, wantErr: "must end with /"},
		{name: "bad sha256", args: []string{"--config", write("sha.yaml", "identities: [{name: a, sha256: xyz}]\n")}, wantErr: "64 hex"},
		{name: "duplicate identity", args: []string{"--config", write("dup.yaml", "identities: [{name: a}, {name: a}]\n")}, wantErr: "defined twice"},
		{name: "same token", args: []string{"--config", write("same.yaml", "identities: [{name: a, token: t}, {name: b, token: t}]\n")}, wantErr: "same token"},
		{name: "token and file", args: []string{"--config", write("both.yaml", "identities: [{name: a, token: t, tokenFile: "+pwFile+"}]\n")}, wantErr: "both directly and as a file"},
		{name: "missing token file", args: []string{"--config", write("nofile.yaml", "identities: [{name: a, tokenFile: /nonexistent/x}]\n")}, wantErr: "read identity a token file"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "log level"},
		{name: "bad public url", args: []string{"--public-url", "cla.example.com"}, wantErr: "public URL"},
		{name: "empty config file", args: []string{"--config", write("empty.yaml", "")}, check: func(t *testing.T, c *Config) { require.Equal(t, "cla.db", c.DB) }},
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

// TestSecret_NeverPrinted formats a config every usual way.
func TestSecret_NeverPrinted(t *testing.T) {
	c := Config{Identities: []IdentityConfig{{Name: "a", Token: "tok-secret"}},
		Slack:  SlackConfig{AppToken: "xapp-secret", BotToken: "xoxb-secret"},
		Notify: NotifyConfig{Email: EmailConfig{Password: "pw-secret"}, Webhook: WebhookConfig{Secret: "hook-secret"}}}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c, "token", c.Identities[0].Token)
	j, err := json.Marshal(c)
	require.NoError(t, err)
	all := fmt.Sprintf("%v %+v %#v", c, c, c) + string(j) + logs.String()
	for _, s := range []string{"tok-secret", "xapp-secret", "xoxb-secret", "pw-secret", "hook-secret"} {
		require.NotContains(t, all, s)
	}
	require.Contains(t, all, redacted)
	require.Equal(t, "tok-secret", c.Identities[0].Token.Reveal())
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

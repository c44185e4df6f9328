package config_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/config"
	"github.com/stretchr/testify/require"
)

func sha256hex(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

func envOf(vars map[string]string) config.Option {
	return config.WithEnv(func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	})
}

func TestLoadFile_Layers(t *testing.T) {
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
	goodVars := map[string]string{"ALICE_TOKEN": "a1: #x, {y} null", "SMTP_PORT": "2525", "HOOK_SECRET": "h"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range goodVars {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name    string
		file    string
		vars    map[string]string
		flags   config.Flags
		wantErr string
		check   func(t *testing.T, c *config.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c *config.Config) {
			require.Equal(t, "cla.db", c.DB)
			require.Equal(t, "127.0.0.1:8080", c.Addr)
			require.Equal(t, "info", c.LogLevel)
			require.False(t, c.Slack.Enabled())
		}},
		{name: "yaml with env and files", file: good, vars: goodVars, check: func(t *testing.T, c *config.Config) {
			require.Equal(t, filepath.Join(dir, "from-yaml.db"), c.DB, "relative to the config file")
			require.Equal(t, config.Secret("a1: #x, {y} null"), c.Identities[0].Token)
			require.Equal(t, 2525, c.Notify.Email.Port)
			require.Equal(t, config.Secret("smtp-pass"), c.Notify.Email.Password)
			require.Equal(t, config.Secret("h"), c.Notify.Webhook.Secret)
		}},
		{name: "env over yaml, flags over env", file: good, vars: with(map[string]string{"CLA_DB": "env.db", "CLA_ADDR": "127.0.0.1:7000", "CLA_LOG_LEVEL": "warn"}),
			flags: config.Flags{Addr: "127.0.0.1:0", LogLevel: "debug"}, check: func(t *testing.T, c *config.Config) {
				require.Equal(t, "env.db", c.DB, "env paths are the shell's, not resolved")
				require.Equal(t, "127.0.0.1:0", c.Addr)
				require.Equal(t, "debug", c.LogLevel)
			}},
		{name: "slack from env", vars: map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-2", "SLACK_API_URL": "http://127.0.0.1:1/api/"},
			check: func(t *testing.T, c *config.Config) { require.True(t, c.Slack.Enabled()) }},
		{name: "missing env var", file: good, wantErr: "ALICE_TOKEN is not set"},
		{name: "unknown key", file: write("typo.yaml", "db: x\nadr: x\n"), wantErr: "line 2: field adr not found"},
		{name: "unknown key from a reference", file: write("refkey.yaml", "${K}: 1\n"), vars: map[string]string{"K": "x"}, wantErr: "field ${K} not found"},
		{name: "syntax error", file: write("syntax.yaml", "db: [x\n"), wantErr: "syntax.yaml"},
		{name: "wrong type", file: write("type.yaml", "notify: {email: {port: many}}\n"), wantErr: "cannot unmarshal"},
		{name: "half slack", vars: map[string]string{"SLACK_BOT_TOKEN": "xoxb-2"}, wantErr: "both SLACK_APP_TOKEN"},
		{name: "wrong slack prefix", vars: map[string]string{"SLACK_APP_TOKEN": "xoxb-1", "SLACK_BOT_TOKEN": "xoxb-2"}, wantErr: "xapp-"},
		{name: "api url slash", vars: map[string]string{"SLACK_API_URL": "http://x/api"}, wantErr: "must end with /"},
		{name: "bad sha256", file: write("sha.yaml", "identities: [{name: a, sha256: xyz}]\n"), wantErr: "64 hex"},
		{name: "duplicate identity", file: write("dup.yaml", "identities: [{name: a}, {name: a}]\n"), wantErr: "defined twice"},
		{name: "same token", file: write("same.yaml", "identities: [{name: a, token: t}, {name: b, token: t}]\n"), wantErr: "same token"},
		{name: "token and file", file: write("both.yaml", "identities: [{name: a, token: t, tokenFile: "+pwFile+"}]\n"), wantErr: "both directly and as a file"},
		{name: "missing token file", file: write("nofile.yaml", "identities: [{name: a, tokenFile: /nonexistent/x}]\n"), wantErr: "read identity a token file"},
		{name: "empty token file", file: write("emptyfile.yaml", "identities: [{name: a, tokenFile: "+write("empty", "\n")+"}]\n"), wantErr: "is empty"},
		{name: "bad log level", flags: config.Flags{LogLevel: "loud"}, wantErr: "log level"},
		{name: "bad public url", flags: config.Flags{PublicURL: "cla.example.com"}, wantErr: "public URL"},
		{name: "bad port", file: write("port.yaml", "notify: {email: {host: h, from: f, port: 70000}}\n"), wantErr: "not a port"},
		{name: "email without from", file: write("from.yaml", "notify: {email: {host: h}}\n"), wantErr: "from is required"},
		{name: "empty db", file: write("emptydb.yaml", "db: \"\"\n"), wantErr: "db (--db, CLA_DB) must not be empty"},
		{name: "negative slack file cap", file: write("slackcap.yaml", "slack:\n  maxFileBytes: -1\n"), wantErr: "slack.maxFileBytes must be 0"},
		{name: "bad unknownUsers", file: write("unknown.yaml", "slack:\n  unknownUsers: everyone\n"), wantErr: `slack.unknownUsers "everyone" must be deny, readonly or allow`},
		{name: "unknownUsers unset, no identities: allow (quick start)", file: write("unk0.yaml", "addr: 127.0.0.1:1\n"),
			check: func(t *testing.T, c *config.Config) { require.Equal(t, "allow", c.UnknownUsersPolicy()) }},
		{name: "unknownUsers unset, identities: readonly", file: write("unk1.yaml", "identities: [{name: alice}]\n"),
			check: func(t *testing.T, c *config.Config) { require.Equal(t, "readonly", c.UnknownUsersPolicy()) }},
		{name: "unknownUsers set wins", file: write("unk2.yaml", "slack: {unknownUsers: deny, allowBroadcastMentions: true}\n"),
			check: func(t *testing.T, c *config.Config) {
				require.Equal(t, "deny", c.UnknownUsersPolicy())
				require.True(t, c.Slack.AllowBroadcastMentions)
			}},
		{name: "negative notify budget", file: write("budget.yaml", "notify:\n  concurrency: {webhook: {total: -1}}\n"),
			wantErr: "notify.concurrency.webhook: total and perTarget must be 0"},
		{name: "notify budgets", file: write("budget2.yaml", "notify:\n  concurrency: {webhook: {total: 6, perTarget: 1}, email: {total: 2}}\n"),
			check: func(t *testing.T, c *config.Config) {
				require.Equal(t, config.BudgetConfig{Total: 6, PerTarget: 1}, c.Notify.Concurrency.Webhook)
				require.Equal(t, config.BudgetConfig{Total: 2}, c.Notify.Concurrency.Email)
			}},
		{name: "no such file", file: filepath.Join(dir, "absent.yaml"), wantErr: "read config"},
		{name: "empty config file", file: write("empty.yaml", ""), check: func(t *testing.T, c *config.Config) { require.Equal(t, "cla.db", c.DB) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.LoadFile(tc.file, envOf(tc.vars), config.WithFlags(tc.flags))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Nil(t, c)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

// TestLoadFile_RelativePaths: every path in a config file means a file
// beside it, wherever the server starts; absolute paths stay as written.
func TestLoadFile_RelativePaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "cla")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "secrets"), 0o700))
	for name, text := range map[string]string{"app": "xapp-1", "bot": "xoxb-2", "pw": "pw", "hook": "hk", "alice": "tok-a"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "secrets", name), []byte(text+"\n"), 0o600))
	}
	abs := filepath.Join(t.TempDir(), "abs.db")
	path := filepath.Join(dir, "cla.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
db: `+abs+`
talkback: talkback.yaml
slack: {appTokenFile: secrets/app, botTokenFile: ./secrets/bot}
notify:
  email: {host: h, from: f, passwordFile: secrets/pw}
  webhook: {secretFile: secrets/hook}
identities:
  - {name: alice, tokenFile: secrets/alice}
  - {name: bob}
`), 0o600))
	t.Chdir(t.TempDir()) // the working directory must not matter
	c, err := config.LoadFile(path, envOf(nil))
	require.NoError(t, err)
	require.Equal(t, abs, c.DB, "absolute paths are kept")
	require.Equal(t, filepath.Join(dir, "talkback.yaml"), c.Talkback)
	require.Equal(t, filepath.Join(dir, "secrets", "app"), c.Slack.AppTokenFile)
	require.Equal(t, filepath.Join(dir, "secrets", "bot"), c.Slack.BotTokenFile)
	require.Equal(t, "xapp-1", c.Slack.AppToken.Reveal())
	require.Equal(t, "pw", c.Notify.Email.Password.Reveal())
	require.Equal(t, "hk", c.Notify.Webhook.Secret.Reveal())
	require.Equal(t, "tok-a", c.Identities[0].Token.Reveal())
	require.Empty(t, c.Identities[1].TokenFile)

	// Load (a reader, no directory) leaves them relative to the working
	// directory, and a flag always is.
	for store, want := range map[string]string{"data/cla.db": filepath.Join(dir, "data", "cla.db"),
		"postgres://cla@db:5432/cla": "postgres://cla@db:5432/cla"} {
		require.NoError(t, os.WriteFile(path, []byte("store: "+store+"\n"), 0o600))
		c, err = config.LoadFile(path, envOf(nil))
		require.NoError(t, err)
		require.Equal(t, want, c.Store, "a bbolt store path is resolved, a URL is not")
	}

	c, err = config.Load(strings.NewReader("talkback: talkback.yaml\n"), envOf(nil), config.WithFlags(config.Flags{DB: "here.db"}))
	require.NoError(t, err)
	require.Equal(t, "talkback.yaml", c.Talkback)
	require.Equal(t, "here.db", c.DB)
}

// TestLoad_ExpandedSecretNeverEchoed: a value that came from ${ENV} is a
// possible secret; no error quotes it, whatever goes wrong.
func TestLoad_ExpandedSecretNeverEchoed(t *testing.T) {
	const secret = "hunter2-very-secret-value"
	cases := []struct{ name, yaml, want string }{
		{"int field", "notify: {email: {host: h, from: f, port: ${S}}}\n", "line 1: cannot unmarshal !!str a value from ${S} into int"},
		{"bool field", "notify: {email: {starttls: ${S}}}\n", "a value from ${S}"},
		{"list field", "identities: [{name: a, groups: ${S}}]\n", "a value from ${S}"},
		{"bad token prefix", "slack: {appToken: ${S}, botToken: ${S}}\n", "SLACK_APP_TOKEN must be an app-level token"},
		{"bad public url", "publicUrl: \"${S}\"\n", "public URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(strings.NewReader(tc.yaml), envOf(map[string]string{"S": secret}))
			require.ErrorContains(t, err, tc.want)
			for _, leak := range []string{secret, secret[:7], secret[:5]} {
				if tc.name == "bad public url" {
					continue // a URL is not a secret and is quoted to be fixed
				}
				require.NotContains(t, err.Error(), leak)
			}
		})
	}
}

// TestSecret_NeverPrinted formats a config every usual way.
func TestSecret_NeverPrinted(t *testing.T) {
	c := config.Config{Identities: []config.IdentityConfig{{Name: "a", Token: "tok-secret"}},
		Slack: config.SlackConfig{AppToken: "xapp-secret", BotToken: "xoxb-secret"},
		Notify: config.NotifyConfig{Email: config.EmailConfig{Password: "pw-secret"},
			Webhook: config.WebhookConfig{Secret: "hook-secret"}}}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c, "token", c.Identities[0].Token)
	j, err := json.Marshal(c)
	require.NoError(t, err)
	all := fmt.Sprintf("%v %+v %#v %s", c, c, c, c.Slack.AppToken) + string(j) + logs.String()
	for _, s := range []string{"tok-secret", "xapp-secret", "xoxb-secret", "pw-secret", "hook-secret"} {
		require.NotContains(t, all, s)
	}
	require.Contains(t, all, "[redacted]")
	require.Equal(t, "tok-secret", c.Identities[0].Token.Reveal())
}

// FuzzLoad feeds arbitrary config files (with ${ENV} references) to the
// loader: it never panics, no placeholder survives into a value, and no
// error quotes the expanded value.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"db: x.db\n", "identities: [{name: a, token: ${T}}]\n",
		"notify:\n  email: {host: h, port: ${P}, password: ${T}}\n", "addr: \"${T}:${P}\"\n", "${T}: 1\n", "- ${T\n",
		"notify: {email: {port: ${T}}}\n"} {
		f.Add(s, "v: 1, {x}")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		lookup := config.WithEnv(func(k string) (string, bool) {
			if k == "P" {
				return "25", true
			}
			return value, k == "T"
		})
		c, err := config.Load(strings.NewReader(text), lookup)
		if err != nil {
			// Decoding errors (not Validate's, which name non-secret
			// settings) must not quote what came from the environment.
			decoding := strings.HasPrefix(err.Error(), "config:")
			if decoding && len(value) >= 8 && !strings.Contains(text, value) && strings.Contains(err.Error(), value) {
				t.Fatalf("error quotes the expanded value: %v", err)
			}
			return
		}
		all := c.DB + c.Addr + c.PublicURL + c.Notify.Email.Password.Reveal()
		for _, id := range c.Identities {
			all += id.Name + id.Token.Reveal()
		}
		if strings.Contains(all, "__cla_env_") && !strings.Contains(text+value, "__cla_env_") {
			t.Fatalf("placeholder leaked: %q", all)
		}
	})
}

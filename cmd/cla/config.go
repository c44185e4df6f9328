package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// Config is everything "cla serve" reads. It is assembled in one order:
// defaults → YAML file (${ENV} expanded) → environment → flags, then the
// *File secrets are read and Validate checks the whole.
type Config struct {
	DB         string           `yaml:"db"`
	Store      string           `yaml:"store"`
	Addr       string           `yaml:"addr"`
	PublicURL  string           `yaml:"publicUrl"`
	Talkback   string           `yaml:"talkback"`
	LogLevel   string           `yaml:"logLevel"`
	Identities []IdentityConfig `yaml:"identities"`
	Slack      SlackConfig      `yaml:"slack"`
	Notify     NotifyConfig     `yaml:"notify"`
	Assignees  AssigneesConfig  `yaml:"assignees"`
	BreakGlass BreakGlassConfig `yaml:"breakGlass"`
	Limits     LimitsConfig     `yaml:"limits"`
	// Sandbox turns the built-in sandbox Slack on or off when there are no
	// Slack tokens; nil means on (see sandbox.go).
	Sandbox *bool `yaml:"sandbox"`
}

// AssigneesConfig says how gate assignees are checked.
type AssigneesConfig struct {
	// AllowUnknown accepts assignees that match nobody the server knows
	// (teams whose members are not all configured).
	AllowUnknown bool `yaml:"allowUnknown"`
}

// BreakGlassConfig turns the admins' emergency override on or off.
type BreakGlassConfig struct {
	// Enabled is true unless the config says false.
	Enabled *bool `yaml:"enabled"`
}

// On reports whether break-glass is allowed (the default).
func (b BreakGlassConfig) On() bool { return b.Enabled == nil || *b.Enabled }

// IdentityConfig is a named actor and, optionally, its API token: given
// plainly (token, usually ${ENV}), in a file (tokenFile), or only as the
// hex SHA-256 of the token (sha256), so the config need hold no secret.
type IdentityConfig struct {
	Name      string   `yaml:"name"`
	Email     string   `yaml:"email"`
	Slack     string   `yaml:"slack"`
	Groups    []string `yaml:"groups"`
	Token     Secret   `yaml:"token"`
	TokenFile string   `yaml:"tokenFile"`
	SHA256    string   `yaml:"sha256"`
	Admin     bool     `yaml:"admin"`
}

// SlackConfig holds the Socket Mode app's tokens; without both, Slack is off.
type SlackConfig struct {
	AppToken     Secret `yaml:"appToken"`
	AppTokenFile string `yaml:"appTokenFile"`
	BotToken     Secret `yaml:"botToken"`
	BotTokenFile string `yaml:"botTokenFile"`
	APIURL       string `yaml:"apiUrl"`
}

// Enabled reports whether Slack is configured.
func (s SlackConfig) Enabled() bool { return s.AppToken != "" && s.BotToken != "" }

// NotifyConfig configures the email and webhook notification channels.
type NotifyConfig struct {
	Email   EmailConfig   `yaml:"email"`
	Webhook WebhookConfig `yaml:"webhook"`
	// Defaults receive the notifications of gates whose config names no
	// channels: ctrlplane's "workspace notification defaults".
	Defaults []ChannelConfig `yaml:"defaults"`
}

// ChannelConfig is one notification channel, as a gate config writes it.
type ChannelConfig struct {
	Type      string `yaml:"type"`
	ChannelID string `yaml:"channelId"`
	To        string `yaml:"to"`
	URL       string `yaml:"url"`
}

// DefaultChannels converts notify.defaults for the domain.
func (n NotifyConfig) DefaultChannels() []jobs.NotifyChannel {
	out := make([]jobs.NotifyChannel, len(n.Defaults))
	for i, c := range n.Defaults {
		out[i] = jobs.NotifyChannel{Type: jobs.ChannelType(c.Type), ChannelID: c.ChannelID, To: c.To, URL: c.URL}
	}
	return out
}

// EmailConfig is the SMTP relay used for email notifications.
type EmailConfig struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	From         string `yaml:"from"`
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"passwordFile"`
	StartTLS     bool   `yaml:"starttls"`
}

// WebhookConfig holds the HMAC secret that signs webhook notifications and
// their callback tokens.
type WebhookConfig struct {
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secretFile"`
}

// defaultConfig is the first layer.
func defaultConfig() Config {
	return Config{DB: "cla.db", Addr: "127.0.0.1:8080", LogLevel: "info"}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadYAML merges a YAML file into c. ${NAME} in any value is replaced by
// the environment variable (which must be set); unknown keys are refused so
// that a typo does not silently drop a setting.
//
// References are swapped for inert placeholders before parsing and filled
// in the parsed values, so "${X}" works anywhere YAML allows a word (flow
// maps included) and a value can never inject YAML structure.
func loadYAML(c *Config, path string, lookup func(string) (string, bool)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var names []string
	text := envRef.ReplaceAllStringFunc(string(data), func(ref string) string {
		names = append(names, envRef.FindStringSubmatch(ref)[1])
		return fmt.Sprintf("__cla_env_%d__", len(names)-1)
	})
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := expandNode(&root, names, lookup); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	expanded, err := yaml.Marshal(&root)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, hideExpanded(err, expanded))
	}
	return nil
}

// quotedValue is how yaml quotes a value in a type error.
var quotedValue = regexp.MustCompile("`[^`]*`")

// hideExpanded keeps an expanded ${NAME} out of a decode error: yaml
// quotes the offending value ("cannot unmarshal !!str `hunter2` into
// int"), and a secret put in a non-string field must not be printed.
// Errors on lines that held a reference say "a value from ${...}" instead.
func hideExpanded(err error, expanded []byte) error {
	lines := map[int]bool{}
	var root yaml.Node
	if yaml.Unmarshal(expanded, &root) == nil {
		markExpanded(&root, lines) // the decoder's lines are those of the expanded text
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if len(lines) > 0 {
			return errors.New(quotedValue.ReplaceAllString(err.Error(), "(value hidden)"))
		}
		return err
	}
	out := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		var line int
		if _, scanErr := fmt.Sscanf(e, "line %d:", &line); scanErr != nil || lines[line] {
			e = quotedValue.ReplaceAllString(e, "a value from ${...}")
		}
		out[i] = e
	}
	return &yaml.TypeError{Errors: out}
}

// markExpanded records the lines of scalars that held a ${NAME}.
func markExpanded(n *yaml.Node, lines map[int]bool) {
	if n.Kind == yaml.ScalarNode && n.LineComment == expandedMark {
		lines[n.Line] = true
	}
	for _, c := range n.Content {
		markExpanded(c, lines)
	}
}

// expandedMark tags an expanded scalar (yaml keeps node comments, and a
// comment never reaches the decoded config).
const expandedMark = "# cla: expanded"

var placeholder = regexp.MustCompile(`__cla_env_(\d+)__`)

// expandNode fills placeholders in scalar values with the environment.
func expandNode(n *yaml.Node, names []string, lookup func(string) (string, bool)) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "__cla_env_") {
		var missing []string
		n.Value = placeholder.ReplaceAllStringFunc(n.Value, func(ph string) string {
			var i int
			_, _ = fmt.Sscanf(ph, "__cla_env_%d__", &i)
			v, ok := lookup(names[i])
			if !ok {
				missing = append(missing, names[i])
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("line %d: environment variable %s is not set", n.Line, strings.Join(missing, ", "))
		}
		n.LineComment = expandedMark
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			// Plain: let the expanded value resolve (a port number stays
			// a number), but never to null.
			n.Tag = ""
			switch n.Value {
			case "", "~", "null", "Null", "NULL":
				n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
			}
		}
	}
	for _, c := range n.Content {
		if err := expandNode(c, names, lookup); err != nil {
			return err
		}
	}
	return nil
}

// applyEnv is the environment layer.
func applyEnv(c *Config, getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.DB, "CLA_DB")
	set(&c.Store, "CLA_STORE")
	set(&c.Addr, "CLA_ADDR")
	set(&c.PublicURL, "CLA_PUBLIC_URL")
	set(&c.Talkback, "CLA_TALKBACK")
	set(&c.LogLevel, "CLA_LOG_LEVEL")
	set(&c.Slack.APIURL, "SLACK_API_URL")
	if v := getenv("SLACK_APP_TOKEN"); v != "" {
		c.Slack.AppToken = Secret(v)
	}
	if v := getenv("SLACK_BOT_TOKEN"); v != "" {
		c.Slack.BotToken = Secret(v)
	}
}

// readSecretFiles fills each secret from its *File setting.
func (c *Config) readSecretFiles() error {
	type pair struct {
		what string
		dst  *Secret
		file string
	}
	pairs := []pair{
		{"slack.appToken", &c.Slack.AppToken, c.Slack.AppTokenFile},
		{"slack.botToken", &c.Slack.BotToken, c.Slack.BotTokenFile},
		{"notify.email.password", &c.Notify.Email.Password, c.Notify.Email.PasswordFile},
		{"notify.webhook.secret", &c.Notify.Webhook.Secret, c.Notify.Webhook.SecretFile},
	}
	for i := range c.Identities {
		id := &c.Identities[i]
		pairs = append(pairs, pair{"identity " + id.Name + " token", &id.Token, id.TokenFile})
	}
	for _, p := range pairs {
		if p.file == "" {
			continue
		}
		if *p.dst != "" {
			return fmt.Errorf("%s is given both directly and as a file; keep one", p.what)
		}
		data, err := os.ReadFile(p.file)
		if err != nil {
			return fmt.Errorf("read %s file: %w", p.what, err)
		}
		*p.dst = Secret(strings.TrimRight(string(data), "\r\n"))
		if *p.dst == "" {
			return fmt.Errorf("%s file %s is empty", p.what, p.file)
		}
	}
	return nil
}

// Validate checks the assembled configuration; messages say which setting
// to fix and never include a secret.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DB == "" {
		bad("db (--db, CLA_DB) must not be empty")
	}
	if c.Addr == "" {
		bad("addr (--addr, CLA_ADDR) must not be empty")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public URL %q must be an http(s) URL like https://cla.example.com", c.PublicURL)
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		bad("log level %q must be debug, info, warn or error", c.LogLevel)
	}
	errs = append(errs, c.validateIdentities()...)
	if _, _, _, err := c.Limits.limits(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateSlack()...)
	if err := jobs.ValidateChannels(c.Notify.DefaultChannels()); err != nil {
		bad("notify.defaults: %s", jobs.ErrorMessage(err))
	}
	if e := c.Notify.Email; e.Host != "" {
		if e.Port < 0 || e.Port > 65535 {
			bad("notify.email.port %d is not a port", e.Port)
		}
		if e.From == "" {
			bad("notify.email.from is required when notify.email.host is set")
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateIdentities() []error {
	var errs []error
	names := map[string]bool{}
	digests := map[string]string{}
	for i, id := range c.Identities {
		if strings.TrimSpace(id.Name) == "" {
			errs = append(errs, fmt.Errorf("identities[%d]: name is required", i))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(id.Name), jobs.System.Name) {
			// cla's own identity fires timers and system resolutions; a
			// person by that name would borrow its rights.
			errs = append(errs, fmt.Errorf("identities[%d]: the name %q is reserved for cla itself", i, id.Name))
			continue
		}
		if names[id.Name] {
			errs = append(errs, fmt.Errorf("identity %q is defined twice", id.Name))
		}
		names[id.Name] = true
		if id.Token != "" && id.SHA256 != "" {
			errs = append(errs, fmt.Errorf("identity %q: give token, tokenFile or sha256, not several", id.Name))
		}
		d, err := id.digest()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d == "" {
			continue
		}
		if other, dup := digests[d]; dup {
			errs = append(errs, fmt.Errorf("identities %q and %q have the same token", other, id.Name))
		}
		digests[d] = id.Name
	}
	return errs
}

// digest returns the hex SHA-256 of the identity's token ("" if none).
func (id IdentityConfig) digest() (string, error) {
	if id.SHA256 != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(id.SHA256), "sha256:"))
		if err != nil || len(b) != 32 {
			return "", fmt.Errorf("identity %q: sha256 must be 64 hex digits (sha256sum of the token)", id.Name)
		}
		return hex.EncodeToString(b), nil
	}
	if id.Token == "" {
		return "", nil
	}
	return hex.EncodeToString(hashToken(id.Token.Reveal())), nil
}

func (c *Config) validateSlack() []error {
	var errs []error
	s := c.Slack
	if (s.AppToken == "") != (s.BotToken == "") {
		errs = append(errs, errors.New("slack needs both SLACK_APP_TOKEN (xapp-…) and SLACK_BOT_TOKEN (xoxb-…), or neither"))
	}
	if s.AppToken != "" && !strings.HasPrefix(s.AppToken.Reveal(), "xapp-") {
		errs = append(errs, errors.New("SLACK_APP_TOKEN must be an app-level token starting with xapp-"))
	}
	if s.BotToken != "" && !strings.HasPrefix(s.BotToken.Reveal(), "xoxb-") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token starting with xoxb-"))
	}
	if s.APIURL != "" && !strings.HasSuffix(s.APIURL, "/") {
		errs = append(errs, fmt.Errorf("SLACK_API_URL %q must end with /", s.APIURL))
	}
	return errs
}

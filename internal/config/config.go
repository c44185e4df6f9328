// Package config assembles the configuration of "cla serve" in one order:
// defaults → YAML file (${ENV} expanded) → environment → flags, then the
// *File secrets are read and Validate checks the whole. Relative file paths
// in a config file are resolved against that file's directory, so a config
// means the same thing wherever the server is started. Secrets are of type
// Secret and never appear in logs, errors or dumps.
//
// Only cmd/cla imports this package; components receive plain values.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// Config is everything "cla serve" reads.
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
	// Maintenance paces the pruning of dedupe keys (maintenance.go).
	Maintenance MaintenanceConfig `yaml:"maintenance"`
	// Sandbox turns the built-in sandbox Slack on or off when there are no
	// Slack tokens; nil means on (cmd/cla/sandbox.go).
	Sandbox *bool `yaml:"sandbox"`
}

// AssigneesConfig says how gate assignees are checked.
type AssigneesConfig struct {
	// AllowUnknown accepts assignees that match nobody the server knows
	// (teams whose members are not all configured).
	AllowUnknown bool `yaml:"allowUnknown"`
	// AnyoneResolvesUnassigned lets every identity resolve a gate opened
	// without assignees; by default only admins and identities with
	// resolveUnassigned may.
	AnyoneResolvesUnassigned bool `yaml:"anyoneResolvesUnassigned"`
	// Default assignees are given to a gate opened without any (workflow
	// gates and traps included).
	Default []string `yaml:"default"`
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
	// ResolveUnassigned lets this identity resolve gates that have no
	// assignees.
	ResolveUnassigned bool `yaml:"resolveUnassigned"`
}

// SlackConfig holds the Socket Mode app's tokens; without both, Slack is off.
type SlackConfig struct {
	AppToken     Secret `yaml:"appToken"`
	AppTokenFile string `yaml:"appTokenFile"`
	BotToken     Secret `yaml:"botToken"`
	BotTokenFile string `yaml:"botTokenFile"`
	APIURL       string `yaml:"apiUrl"`
	// MaxFileBytes caps a file shared in a job channel that cla downloads
	// and keeps; a bigger one is kept as metadata and a permalink. 0 means
	// the default, 10 MiB.
	MaxFileBytes int `yaml:"maxFileBytes"`
	// UnknownUsers is what Slack users who map to no configured identity
	// may do: deny, readonly or allow. Unset, it is readonly when the
	// config names identities and allow when it names none (the quick
	// start, where nobody could act otherwise); see UnknownUsersPolicy.
	UnknownUsers string `yaml:"unknownUsers"`
	// AllowBroadcastMentions lets a gate description's own text (never a
	// value from the dispatch context) notify a whole channel with
	// <!channel>, <!here> or <!everyone>; refused by default.
	AllowBroadcastMentions bool `yaml:"allowBroadcastMentions"`
}

// UnknownUsersPolicy is slack.unknownUsers in force: as configured, or,
// when unset, readonly if the config names identities and allow if it
// names none (nobody would be known, so nobody could act).
func (c *Config) UnknownUsersPolicy() string {
	switch {
	case c.Slack.UnknownUsers != "":
		return c.Slack.UnknownUsers
	case len(c.Identities) == 0:
		return "allow"
	}
	return "readonly"
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
	// Concurrency bounds the deliveries running at once per channel type
	// and per target, so that one hanging kind of target cannot delay the
	// others. Zero means the default.
	Concurrency ConcurrencyConfig `yaml:"concurrency"`
}

// ConcurrencyConfig is notify.concurrency: a budget per channel type.
type ConcurrencyConfig struct {
	Webhook BudgetConfig `yaml:"webhook"` // default 8 in all, 2 per host
	Email   BudgetConfig `yaml:"email"`   // default 4 in all, 4 per SMTP server
	Slack   BudgetConfig `yaml:"slack"`   // default 16 in all, 1 per channel
}

// BudgetConfig is one channel type's concurrency: deliveries at once in
// all (total) and to one target (perTarget).
type BudgetConfig struct {
	Total     int `yaml:"total"`
	PerTarget int `yaml:"perTarget"`
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
	// AllowHosts names the host names, addresses or CIDR prefixes on
	// loopback, link-local, private or metadata networks that webhook
	// notifications may reach; all others of those are refused.
	AllowHosts []string `yaml:"allowHosts"`
}

// Default is the first layer.
func Default() Config {
	return Config{DB: "cla.db", Addr: "127.0.0.1:8080", LogLevel: "info"}
}

// paths lists the settings that name files, for resolving them against the
// config file's directory. The order is fixed, so the lists of two configs
// decoded from the same file line up.
func (c *Config) paths() []*string {
	out := []*string{&c.DB, &c.Talkback, &c.Slack.AppTokenFile, &c.Slack.BotTokenFile,
		&c.Notify.Email.PasswordFile, &c.Notify.Webhook.SecretFile}
	for i := range c.Identities {
		out = append(out, &c.Identities[i].TokenFile)
	}
	return out
}

// Digest returns the hex SHA-256 of the identity's token ("" if none): the
// form in which the server keeps it.
func (id IdentityConfig) Digest() (string, error) {
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
	d := sha256.Sum256([]byte(id.Token.Reveal()))
	return hex.EncodeToString(d[:]), nil
}

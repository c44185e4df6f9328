package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

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
	if c.Slack.MaxFileBytes < 0 {
		bad("slack.maxFileBytes must be 0 (the default, 10 MiB) or more, not %d", c.Slack.MaxFileBytes)
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
	if _, _, _, err := c.Limits.Limits(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := c.Limits.Quotas(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Maintenance.Maintenance(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateSlack()...)
	if err := jobs.ValidateChannels(c.Notify.DefaultChannels()); err != nil {
		bad("notify.defaults: %s", jobs.ErrorMessage(err))
	}
	for name, b := range map[string]BudgetConfig{"webhook": c.Notify.Concurrency.Webhook, "email": c.Notify.Concurrency.Email,
		"slack": c.Notify.Concurrency.Slack} {
		if b.Total < 0 || b.PerTarget < 0 {
			bad("notify.concurrency.%s: total and perTarget must be 0 (the default) or more", name)
		}
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
		d, err := id.Digest()
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
	switch s.UnknownUsers {
	case "", "deny", "readonly", "allow":
	default:
		errs = append(errs, fmt.Errorf("slack.unknownUsers %q must be deny, readonly or allow", s.UnknownUsers))
	}
	return errs
}

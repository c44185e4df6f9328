package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// EmailConfig is the SMTP relay cla sends through (config file
// `notify.email`). Password comes from the environment, never the repo.
type EmailConfig struct {
	Host     string `yaml:"host" json:"host"`
	Port     int    `yaml:"port" json:"port"`
	From     string `yaml:"from" json:"from"`
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"-"`
	// StartTLS requires the STARTTLS upgrade before authenticating; port
	// 465 always uses implicit TLS instead.
	StartTLS bool `yaml:"starttls" json:"starttls"`
	// TLS overrides the TLS client settings (a private CA, tests); nil
	// means the system roots with ServerName set to Host.
	TLS *tls.Config `yaml:"-" json:"-"`
	// Timeout bounds one delivery; 30 s by default.
	Timeout time.Duration `yaml:"-" json:"-"`
}

// Validate checks the settings at start, so a typo fails `serve` rather
// than every notification.
func (c *EmailConfig) Validate() error {
	if c.Host == "" {
		return errors.New("notify.email.host is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("notify.email.port %d is out of range", c.Port)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("notify.email.from %q: %w", c.From, err)
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("notify.email.password is set without a username")
	}
	return nil
}

// Email is the jobs.Notifier of channel type "email": one multipart
// (plain text and HTML) message per notification that asks something of
// people. gate_resolved sends no email.
type Email struct {
	cfg       EmailConfig
	from      *mail.Address
	publicURL string
	log       *slog.Logger
	now       func() time.Time
}

// NewEmail validates the settings and builds the notifier; publicURL makes
// the link to the job's page.
func NewEmail(cfg EmailConfig, publicURL string, log *slog.Logger) (*Email, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	from, _ := mail.ParseAddress(cfg.From)
	return &Email{cfg: cfg, from: from, publicURL: publicURL, log: log.With("component", "notify.email"), now: time.Now}, nil
}

// Notify renders and sends the message. A malformed address or a
// recipient refused for good is a PermanentError.
func (e *Email) Notify(ctx context.Context, n jobs.Notification, job *jobs.Job) error {
	g, ok := actionable(n, job)
	if !ok {
		return nil
	}
	to, err := mail.ParseAddressList(n.Channel.Target())
	if err != nil {
		return Permanent(fmt.Errorf("email recipients %q: %w", n.Channel.Target(), err))
	}
	msg, err := renderEmail(emailData(n, job, g, e.publicURL), e.from, to, e.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	return e.send(ctx, to, msg)
}

// send runs one SMTP session: connect, STARTTLS, AUTH, MAIL, RCPT, DATA.
func (e *Email) send(ctx context.Context, to []*mail.Address, msg []byte) error {
	c, err := e.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := e.secure(c); err != nil {
		return err
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	accepted, err := e.recipients(c, to)
	if err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	_ = c.Quit()
	e.log.Debug("email sent", "recipients", accepted)
	return nil
}

func (e *Email) dial(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port))
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp connect %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if e.cfg.Port == 465 {
		conn = tls.Client(conn, e.tlsConfig())
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("smtp greeting from %s: %w", addr, err)
	}
	return c, nil
}

// secure upgrades with STARTTLS when configured and authenticates. net/smtp
// refuses to send a password over plain text except to localhost.
func (e *Email) secure(c *smtp.Client) error {
	if e.cfg.StartTLS && e.cfg.Port != 465 {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp server %s does not offer STARTTLS, which the config requires", e.cfg.Host)
		}
		if err := c.StartTLS(e.tlsConfig()); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if e.cfg.Username == "" {
		return nil
	}
	if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.cfg.Host)); err != nil {
		return fmt.Errorf("smtp auth as %s: %w", e.cfg.Username, err)
	}
	return nil
}

func (e *Email) tlsConfig() *tls.Config {
	if e.cfg.TLS != nil {
		return e.cfg.TLS.Clone()
	}
	return &tls.Config{ServerName: e.cfg.Host, MinVersion: tls.VersionTLS12}
}

// recipients sends RCPT for each address. A 5xx refusal of some is logged
// and skipped; of all, it is permanent. Other errors are retried.
func (e *Email) recipients(c *smtp.Client, to []*mail.Address) ([]string, error) {
	var accepted, refused []string
	for _, a := range to {
		err := c.Rcpt(a.Address)
		var te *textproto.Error
		switch {
		case err == nil:
			accepted = append(accepted, a.Address)
		case errors.As(err, &te) && te.Code >= 500:
			refused = append(refused, fmt.Sprintf("%s (%d %s)", a.Address, te.Code, te.Msg))
		default:
			return nil, fmt.Errorf("smtp rcpt %s: %w", a.Address, err)
		}
	}
	if len(accepted) == 0 {
		return nil, Permanent(fmt.Errorf("smtp server refused every recipient: %s", strings.Join(refused, "; ")))
	}
	if len(refused) > 0 {
		e.log.Warn("some email recipients refused", "refused", refused)
	}
	return accepted, nil
}

package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"testing"

	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func newEmail(t *testing.T, s *smtpServer, cfg notify.EmailConfig) *notify.Email {
	t.Helper()
	cfg.Host, cfg.Port = s.addr, s.port
	if cfg.From == "" {
		cfg.From = "cla <cla@example.com>"
	}
	e, err := notify.NewEmail(cfg, "https://cla.example.com", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return e
}

// parts parses a received message into its headers and its plain and HTML
// bodies (decoded).
func parts(t *testing.T, data []byte) (netmail.Header, string, string) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	bodies := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		bodies[ct] = string(b)
	}
	return msg.Header, bodies["text/plain"], bodies["text/html"]
}

func TestEmail_Notify(t *testing.T) {
	s := startSMTP(t, false, "", "")
	e := newEmail(t, s, notify.EmailConfig{})
	job, n := openJob("Replace <script>alert(1)</script> disk & reboot; node &lt;b&gt; &amp; c")
	n.Channel = jobs.NotifyChannel{Type: "email", To: "Ops Team <ops@example.com>, bob@example.com"}
	require.NoError(t, e.Notify(context.Background(), n, job))

	m := recv(t, s.got)
	require.Equal(t, "cla@example.com", m.from)
	require.Equal(t, []string{"ops@example.com", "bob@example.com"}, m.to)
	h, plain, html := parts(t, m.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "[cla] Action required: Swap failed disk (job qa-1234)", subject)
	require.Equal(t, `"Ops Team" <ops@example.com>, <bob@example.com>`, h.Get("To"))
	require.Equal(t, n.ID, h.Get("X-Cla-Notification-Id"))
	require.NotEmpty(t, h.Get("Message-Id"))

	link := "https://cla.example.com/jobs/qa-1234"
	require.Contains(t, plain, "Replace <script>alert(1)</script> disk & reboot", "plain text is verbatim")
	require.Contains(t, plain, "node <b> & c", "values escaped for Slack read as given")
	require.Contains(t, plain, "Assignees: ops, alice@example.com")
	require.Contains(t, plain, "[ ] pull disk")
	require.Contains(t, plain, link)
	require.Contains(t, html, "Replace &lt;script&gt;alert(1)&lt;/script&gt; disk &amp; reboot")
	require.NotContains(t, html, "<script>")
	require.NotContains(t, html, "<b>")
	require.Contains(t, html, `href="`+link+`"`)
	require.Contains(t, html, "ops, alice@example.com")
}

func TestEmail_NotifyEvents(t *testing.T) {
	s := startSMTP(t, false, "", "")
	e := newEmail(t, s, notify.EmailConfig{})
	for _, tc := range []struct {
		event, subject, line string
	}{
		{jobs.NotifyReminder, "[cla] Reminder: Action required: Swap failed disk (job qa-1234)", ""},
		{jobs.NotifyEscalated, "[cla] Escalated: Action required: Swap failed disk (job qa-1234)", "Escalated to: lead"},
		{jobs.NotifyReassigned, "[cla] Reassigned: Action required: Swap failed disk (job qa-1234)", "Reassigned to: lead"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			job, n := openJob("d")
			n.Event, n.Assignees = tc.event, []string{"lead"}
			n.Channel = jobs.NotifyChannel{Type: "email", To: "ops@example.com"}
			require.NoError(t, e.Notify(context.Background(), n, job))
			h, plain, html := parts(t, recv(t, s.got).data)
			subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			require.Equal(t, tc.subject, subject)
			require.Contains(t, plain, tc.line)
			require.Contains(t, html, tc.line)
		})
	}
	t.Run("resolved sends nothing", func(t *testing.T) {
		job, n := openJob("d")
		n.Event, n.Channel = jobs.NotifyGateResolved, jobs.NotifyChannel{Type: "email", To: "ops@example.com"}
		job.Gates[0].State = jobs.GateClosed
		require.NoError(t, e.Notify(context.Background(), n, job))
		require.Empty(t, s.got)
	})
}

func TestEmail_NotifySTARTTLSAuth(t *testing.T) {
	s := startSMTP(t, true, "cla", "pw")
	e := newEmail(t, s, notify.EmailConfig{Username: "cla", Password: "pw", StartTLS: true,
		TLS: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"}})
	job, n := openJob("d")
	n.Channel = jobs.NotifyChannel{Type: "email", To: "ops@example.com"}
	require.NoError(t, e.Notify(context.Background(), n, job))
	m := recv(t, s.got)
	require.True(t, m.tls, "the session was upgraded")
	require.Equal(t, "cla", m.auth)

	bad := newEmail(t, s, notify.EmailConfig{Username: "cla", Password: "wrong", StartTLS: true,
		TLS: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"}})
	err := bad.Notify(context.Background(), n, job)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong", "the password never appears in errors")
	require.Empty(t, s.got, "a refused login delivers nothing")
}

func TestEmail_NotifyFailures(t *testing.T) {
	plain := startSMTP(t, false, "", "")
	plain.refuse["nobody@example.com"] = true
	for _, tc := range []struct {
		name      string
		cfg       notify.EmailConfig
		to        string
		permanent bool
	}{
		{"starttls required but not offered", notify.EmailConfig{StartTLS: true}, "ops@example.com", false},
		{"malformed address", notify.EmailConfig{}, "not an address", true},
		{"every recipient refused", notify.EmailConfig{}, "nobody@example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmail(t, plain, tc.cfg)
			job, n := openJob("d")
			n.Channel = jobs.NotifyChannel{Type: "email", To: tc.to}
			err := e.Notify(context.Background(), n, job)
			require.Error(t, err)
			var p *jobs.PermanentError
			require.Equal(t, tc.permanent, asPermanent(err, &p), "%v", err)
			require.Empty(t, plain.got)
		})
	}
	t.Run("some recipients refused", func(t *testing.T) {
		e := newEmail(t, plain, notify.EmailConfig{})
		job, n := openJob("d")
		n.Channel = jobs.NotifyChannel{Type: "email", To: "nobody@example.com, ops@example.com"}
		require.NoError(t, e.Notify(context.Background(), n, job))
		require.Equal(t, []string{"ops@example.com"}, recv(t, plain.got).to)
	})
	t.Run("server down", func(t *testing.T) {
		e, err := notify.NewEmail(notify.EmailConfig{Host: "127.0.0.1", Port: 1, From: "cla@example.com"}, "", slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		job, n := openJob("d")
		n.Channel = jobs.NotifyChannel{Type: "email", To: "ops@example.com"}
		require.Error(t, e.Notify(context.Background(), n, job))
	})
}

func TestEmailConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  notify.EmailConfig
		ok   bool
	}{
		{"minimal", notify.EmailConfig{Host: "smtp.example.com", From: "cla@example.com"}, true},
		{"no host", notify.EmailConfig{From: "cla@example.com"}, false},
		{"bad from", notify.EmailConfig{Host: "h", From: "cla"}, false},
		{"bad port", notify.EmailConfig{Host: "h", From: "cla@example.com", Port: 70000}, false},
		{"password without user", notify.EmailConfig{Host: "h", From: "cla@example.com", Password: "x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}

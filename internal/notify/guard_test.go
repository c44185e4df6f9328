package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/jobs"
)

func guardedWebhook(t *testing.T, allow ...string) *notify.Webhook {
	t.Helper()
	g, err := notify.NewHostGuard(allow)
	require.NoError(t, err)
	cb, err := notify.NewCallbacks(webhookSecret, nil)
	require.NoError(t, err)
	wh, err := notify.NewWebhook(webhookSecret, "https://cla.example.com/", cb, g.Client(60*time.Second)) // a safety net on a loaded machine
	require.NoError(t, err)
	return wh
}

// TestHostGuard_SSRF replays issue 17 item 7: the server's webhooks cannot
// reach loopback, link-local, private or metadata addresses unless
// notify.webhook.allowHosts names them; a refusal is permanent (no retry
// loop) and its reason generic (no port-scan oracle).
func TestHostGuard_SSRF(t *testing.T) {
	srv, got := receiver(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port := u.Port()
	refused := []struct{ name, url string }{
		{"loopback", srv.URL + "/hook"},
		{"name resolving to loopback", "http://localhost:" + port + "/hook"},
		{"metadata", "http://169.254.169.254/latest/meta-data/"},
		{"private", "http://10.0.0.1:9/"},
		{"ipv6 loopback", "http://[::1]:" + port + "/"},
		{"mapped loopback", "http://[::ffff:127.0.0.1]:" + port + "/"},
		{"unspecified", "http://0.0.0.0:" + port + "/"},
	}
	wh := guardedWebhook(t)
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			job, n := openJob("x")
			n.Channel = jobs.NotifyChannel{Type: "webhook", URL: c.url}
			err := wh.Notify(context.Background(), n, job)
			var perm *jobs.PermanentError
			require.True(t, errors.As(err, &perm), "want a permanent refusal, got %v", err)
			require.ErrorIs(t, err, notify.ErrDestinationRefused)
			require.NotContains(t, err.Error(), port, "the job log must not learn about ports")
		})
	}
	for _, scheme := range []string{"ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:70/"} {
		t.Run("scheme "+strings.SplitN(scheme, ":", 2)[0], func(t *testing.T) {
			job, n := openJob("x")
			n.Channel = jobs.NotifyChannel{Type: "webhook", URL: scheme}
			err := wh.Notify(context.Background(), n, job)
			var perm *jobs.PermanentError
			require.True(t, errors.As(err, &perm), "got %v", err)
		})
	}
	select {
	case r := <-got:
		t.Fatalf("a refused webhook reached the receiver: %v", r.header)
	default:
	}
	for _, allow := range [][]string{{"127.0.0.1"}, {"127.0.0.0/8"}, {"localhost"}} {
		t.Run(fmt.Sprintf("allowed %v", allow), func(t *testing.T) {
			wh := guardedWebhook(t, allow...)
			job, n := openJob("x")
			target := srv.URL + "/hook"
			if allow[0] == "localhost" {
				target = "http://localhost:" + port + "/hook"
			}
			n.Channel = jobs.NotifyChannel{Type: "webhook", URL: target}
			require.NoError(t, wh.Notify(context.Background(), n, job))
			require.NoError(t, recv(t, got).err)
		})
	}
}

func TestNewHostGuard_Refusals(t *testing.T) {
	for _, bad := range [][]string{{""}, {"10.0.0.0/33"}, {"300.1.1.1/8"}} {
		_, err := notify.NewHostGuard(bad)
		require.Error(t, err, "%v", bad)
	}
}

func FuzzHostGuard(f *testing.F) {
	f.Add("10.0.0.0/8")
	f.Add("::ffff:169.254.169.254")
	f.Add("localhost")
	f.Fuzz(func(t *testing.T, allow string) {
		g, err := notify.NewHostGuard([]string{allow})
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.NotNil(t, g.Client(time.Second))
	})
}

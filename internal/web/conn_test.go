package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// runServer runs the API with web.Server.Run on 127.0.0.1:0, as serve does.
func runServer(t *testing.T, cfg web.Config) (addr string, svc *jobs.Service, stop func() error) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	cfg.Service, cfg.Keyring = svc, web.NewKeyring(testIdentities())
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- web.New(cfg).Run(ctx, ln) }()
	var once bool
	var runErr error
	stop = func() error {
		if !once {
			once = true
			cancel()
			runErr = <-errc
		}
		return runErr
	}
	t.Cleanup(func() { _ = stop(); _ = db.Close() })
	return ln.Addr().String(), svc, stop
}

// cutOff reports whether the server closes conn within limit (a safety net
// far above the configured timeouts; the test never sleeps).
func cutOff(t *testing.T, conn net.Conn, limit time.Duration) bool {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(limit)))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func healthy(t *testing.T, local, addr string) bool {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 60 * time.Second}).Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestServer_SlowClients replays issue 17 item 3: slow bodies and headers
// without a login are cut off, one client cannot take every connection,
// and /healthz keeps answering others; long-polls outlive the body timeout.
func TestServer_SlowClients(t *testing.T) {
	cfg := web.Config{ReadHeaderTimeout: 200 * time.Millisecond, BodyTimeout: 200 * time.Millisecond, MaxConnsPerClient: 4}
	addr, svc, _ := runServer(t, cfg)

	t.Run("slow body on POST /v1/jobs without a token", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		_, err := fmt.Fprintf(c, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		require.NoError(t, err)
		require.True(t, cutOff(t, c, 60*time.Second), "a stalled body held the connection")
	})
	t.Run("slow body with a token", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		_, err := fmt.Fprintf(c, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n{", tokCI)
		require.NoError(t, err)
		require.True(t, cutOff(t, c, 60*time.Second))
	})
	t.Run("slow headers", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		_, err := fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: x\r\n")
		require.NoError(t, err)
		require.True(t, cutOff(t, c, 60*time.Second))
	})
	t.Run("per-client cap", func(t *testing.T) {
		// Header and body timeouts of an hour: only the cap can cut the
		// fifth connection (with 200 ms the idle ones could be cut first,
		// and the fifth by its own header timeout, cap or no cap).
		addr, _, _ := runServer(t, web.Config{ReadHeaderTimeout: time.Hour, BodyTimeout: time.Hour, MaxConnsPerClient: 4})
		for range 4 {
			dialFrom(t, "127.0.0.3", addr) // idle connections hold slots
		}
		extra := dialFrom(t, "127.0.0.3", addr)
		require.True(t, cutOff(t, extra, 60*time.Second), "the fifth connection of one client was kept")
		require.True(t, healthy(t, "127.0.0.4", addr), "another client is still served")
	})
	t.Run("long-poll outlives the body timeout", func(t *testing.T) {
		_, err := svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "lp-1", Name: "lp"})
		require.NoError(t, err)
		c := dialFrom(t, "127.0.0.5", addr)
		_, err = fmt.Fprintf(c, "GET /v1/jobs/lp-1?since=1&wait=1s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tokCI)
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(60*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.True(t, strings.Contains(string(body), `"id":"lp-1"`), string(body))
	})
}

// TestServer_ShutdownWithSlowClient replays issue 17 item 17: a client
// stuck mid-request does not make shutdown fail or outlast its budget.
func TestServer_ShutdownWithSlowClient(t *testing.T) {
	cfg := web.Config{BodyTimeout: time.Hour, ShutdownTimeout: 100 * time.Millisecond}
	addr, _, stop := runServer(t, cfg)
	c := dialFrom(t, "127.0.0.1", addr)
	_, err := fmt.Fprintf(c, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n{", tokCI)
	require.NoError(t, err)
	require.True(t, healthy(t, "127.0.0.1", addr)) // the slow request is in flight by now
	require.NoError(t, stop(), "a slow client is no shutdown failure")
	require.True(t, cutOff(t, c, 60*time.Second))
}

package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// TestServer_ContentToAClientThatNeverReads: a file's bytes were written in
// one call with no deadline, so a client that asked for a download and
// never read held the handler and the whole file in memory for as long as
// it kept the connection (128 per address: 128 files of up to
// slack.maxFileBytes). Each chunk now has limits.sendTimeout to be taken.
func TestServer_ContentToAClientThatNeverReads(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	const size = 8 << 20 // more than the socket buffers of both ends hold
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{MaxFileBytes: size, Quotas: jobs.Quotas{JobAnnotationBytes: 2 * size}})
	reg := prometheus.NewRegistry()
	api := web.New(web.Config{Service: svc, Keyring: web.NewKeyring(testIdentities()), Registry: reg,
		Logger: slog.New(slog.DiscardHandler), SendTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Stop(); srv.Close() })
	ctx := context.Background()
	ci := jobs.Identity{Name: "ci"}
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "big", Name: "n"})
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "big", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "big.bin",
		Content: []byte(strings.Repeat("x", size))})
	require.NoError(t, err)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = fmt.Fprintf(conn, "GET /v1/jobs/big/annotations/1/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tokCI)
	require.NoError(t, err)

	// The client reads nothing; the server gives up on it.
	served := func() float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "cla_http_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "route" && strings.HasSuffix(l.GetValue(), "/content") {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	deadline := time.Now().Add(60 * time.Second)
	for served() == 0 {
		require.True(t, time.Now().Before(deadline), "the handler is still writing to a client that never reads")
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	require.NoError(t, conn.Close())

	// A client that reads gets every byte.
	r := get(t, srv.URL+"/v1/jobs/big/annotations/1/content", tokCI)
	require.Equal(t, size, r)
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	return int(n)
}

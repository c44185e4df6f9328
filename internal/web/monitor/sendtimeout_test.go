package monitor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
)

// TestMonitor_DownloadToAClientThatNeverReads: the monitor's file download
// was one write with no deadline, so a browser (or script) that asked for
// it and never read held the handler and the file's bytes for as long as
// it kept the connection. Each chunk now has limits.sendTimeout.
func TestMonitor_DownloadToAClientThatNeverReads(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	const size = 8 << 20 // more than the socket buffers of both ends hold
	f := &fixture{t: t, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{MaxFileBytes: size}), dir: jobs.NewDirectory(testIdentities)}
	f.mon, err = New(Config{Service: f.svc, Authenticate: func(tok string) (jobs.Identity, bool) { return f.dir.ByName(strings.TrimPrefix(tok, "tok-")) },
		Identity: f.dir.ByName, SessionKey: []byte("0123456789abcdef0123456789abcdef"), MaxFileBytes: size, SendTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	downloaded := make(chan struct{}, 1)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mon.ServeHTTP(w, r)
		if strings.Contains(r.URL.Path, "/files/") {
			downloaded <- struct{}{}
		}
	}))
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.mon.Close)
	f.mon.cfg.PublicURL = f.srv.URL

	ctx := context.Background()
	ci := jobs.Identity{Name: "ci", Admin: true}
	_, err = f.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "big", Name: "n"})
	require.NoError(t, err)
	_, err = f.svc.Annotate(ctx, ci, jobs.ViaAPI, "big", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "big.bin",
		Content: []byte(strings.Repeat("x", size))})
	require.NoError(t, err)
	entries, err := f.svc.Log(ctx, "big", 0, 100)
	require.NoError(t, err)
	seq := entries[len(entries)-1].Seq

	b := f.signIn("alice")
	u, err := url.Parse(f.srv.URL)
	require.NoError(t, err)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = fmt.Fprintf(conn, "GET /jobs/big/files/%d HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", seq, strings.Join(cookies, "; "))
	require.NoError(t, err)
	select {
	case <-downloaded:
	case <-time.After(60 * time.Second): // only a failing test waits it out
		t.Fatal("the handler is still writing to a client that never reads")
	}
	require.NoError(t, conn.Close())

	resp, body := b.get(fmt.Sprintf("/jobs/big/files/%d", seq))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body, size, "a client that reads gets every byte")
}

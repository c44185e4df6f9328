package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServe_WebLogin: the CLI finds the admin token by itself and prints a
// one-time monitor link that the server then offers to sign in with; the
// monitor shows nothing without a session.
func TestServe_WebLogin(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	srv := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0")
	out, stderr, code := cli(t, nil, "web-login", "--server", srv.url(), "--db", db)
	require.Equal(t, 0, code, stderr)
	link := strings.TrimSpace(out)
	require.True(t, strings.HasPrefix(link, srv.url()+"/login/"), link)
	status, body := httpGet(t, link)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Sign in as admin")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.url() + "/jobs/anything")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "no session: to the login page")
	srv.stop()
}

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browser is an HTTP client signed in to the monitor (and so the sandbox).
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs an HTTP client in through the monitor's token form.
func signIn(t *testing.T, base, token string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &browser{t: t, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}, base: base}
	_, page := b.get("/login")
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, page)
	code, _ := b.post("/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/sandbox"}})
	require.Equal(t, 200, code)
	return b
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// csrf reads the session's CSRF token from a sandbox page.
func (b *browser) csrf() string {
	_, page := b.get("/sandbox/c/general")
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(b.t, m, page)
	return m[1]
}

// TestE2E_SandboxDemoAndRestart: `cla sandbox demo` binds #job-demo-1
// through @cla add; bad input to the page changes nothing; a restart keeps
// the sandbox's channels and messages; --sandbox=false and real tokens
// turn it off.
func TestE2E_SandboxDemoAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	staleAtStart := filepath.Join(dir, ".cla.sandbox.json.tmp-1234")
	require.NoError(t, os.WriteFile(staleAtStart, []byte(`{"half`), 0o600))
	srv := startServer(t, []string{"SLACK_APP_TOKEN=", "SLACK_BOT_TOKEN="}, "--db", db, "--addr", "127.0.0.1:0")
	_, err := os.Stat(staleAtStart)
	require.ErrorIs(t, err, os.ErrNotExist, "an interrupted save's temporary file is removed at start")
	env := []string{"CLA_SERVER=" + srv.url(), "CLA_TOKEN="}

	out, errOut, code := cli(t, env, "sandbox", "demo", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "demo job demo-1 started")
	_, errOut, code = cli(t, env, "sandbox", "demo", "--db", db, "--as", "mallory")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "no sandbox person mallory")

	token, err := os.ReadFile(filepath.Join(dir, "cla.token"))
	require.NoError(t, err)
	b := signIn(t, srv.url(), strings.TrimSpace(string(token)))
	waitFor(t, ctx, func() bool {
		code, page := b.get("/sandbox/c/job-demo-1")
		return code == 200 && strings.Contains(page, "This channel is bound to job")
	})

	// Bad input: a forged post, an unknown person, a huge message.
	_, before := b.get("/sandbox/c/general")
	code, page := b.post("/sandbox/c/general/post", url.Values{"text": {"forged"}})
	require.Equal(t, 403, code)
	require.Contains(t, page, "did not come from this site")
	csrf := b.csrf()
	code, page = b.post("/sandbox/as", url.Values{"csrf": {csrf}, "user": {"mallory"}})
	require.Equal(t, 400, code)
	require.Contains(t, page, "no sandbox person called “mallory”")
	code, page = b.post("/sandbox/c/general/post", url.Values{"csrf": {csrf}, "text": {strings.Repeat("x", 40001)}})
	require.Equal(t, 413, code)
	require.Contains(t, page, "Nothing was posted")
	_, after := b.get("/sandbox/c/general")
	require.Equal(t, strings.Count(before, `class="sk-msg`), strings.Count(after, `class="sk-msg`), "nothing was posted")
	require.NotContains(t, after, "forged")

	// A restart keeps the channels and messages.
	code, _ = b.post("/sandbox/c/general/post", url.Values{"csrf": {csrf}, "text": {"remember me"}})
	require.Equal(t, 200, code)
	// Temporary files a killed save would leave are gone after SIGTERM.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cla.sandbox.files"), 0o700))
	stale := []string{filepath.Join(dir, ".cla.sandbox.json.tmp-99"), filepath.Join(dir, "cla.sandbox.files", ".F0000001.tmp-7")}
	for _, p := range stale {
		require.NoError(t, os.WriteFile(p, []byte("half"), 0o600))
	}
	srv.stop()
	for _, p := range stale {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	_, err = os.Stat(filepath.Join(dir, "cla.sandbox.json"))
	require.NoError(t, err, "the last save is in place")
	srv = startServer(t, []string{"SLACK_APP_TOKEN=", "SLACK_BOT_TOKEN="}, "--db", db, "--addr", "127.0.0.1:0")
	b = signIn(t, srv.url(), strings.TrimSpace(string(token)))
	code, page = b.get("/sandbox/c/job-demo-1")
	require.Equal(t, 200, code)
	require.Contains(t, page, "This channel is bound to job")
	_, page = b.get("/sandbox/c/general")
	require.Contains(t, page, "remember me")
	srv.stop()
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// e2eBudget bounds one end-to-end scenario (or one wait in it): generous,
// since CI runs these beside every other package's tests under -race on
// 2 busy cores, and only a failing test waits it out.
const e2eBudget = 180 * time.Second

// claBin is the cla binary built once for the end-to-end tests.
var claBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cla-e2e-")
	if err != nil {
		panic(err)
	}
	claBin = filepath.Join(dir, "cla")
	build := exec.Command("go", "build", "-o", claBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build cla: " + err.Error())
	}
	// Servers started by tests must not record their token in the real
	// user's config directory; the test of that sets its own.
	os.Setenv("XDG_CONFIG_HOME", "")
	os.Setenv("HOME", "")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a running "cla serve" process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *syncBuffer
	addr string
	done chan error
}

var listenLine = regexp.MustCompile(`msg=listening .*addr=(\S+)`)

// startServer runs cla serve with args and waits for its listening line.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	args = e2eStore(t, args)
	cmd := exec.Command(claBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &server{t: t, cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.Write([]byte(line + "\n"))
			if m := listenLine.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.addr = <-found:
	case err := <-s.done:
		t.Fatalf("cla serve exited early (%v):\n%s", err, s.logs.String())
	case <-time.After(60 * time.Second): // a loaded machine; PostgreSQL migrations wait for each other
		_ = cmd.Process.Kill()
		t.Fatalf("cla serve did not start:\n%s", s.logs.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *server) url() string { return "http://" + s.addr }

// stop sends SIGTERM and requires a clean exit 0 (within 30 s here, for a
// loaded machine; TestServe_Shutdown holds serve to its 10 s).
func (s *server) stop() {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.done:
		require.NoError(s.t, err, "cla serve must exit 0 on SIGTERM:\n%s", s.logs.String())
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("cla serve did not stop within 30s:\n%s", s.logs.String())
	}
}

// cli runs the cla binary and returns stdout, stderr and the exit code.
func cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(claBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errb.String(), code
}

// api sends one HTTP request and decodes a JSON answer.
func api(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

// testConfig writes a config with identities ci, alice (tokenFile), bob
// (sha256 only), carol and root (admin); alice and bob are in group ops and
// may resolve unassigned gates (so may carol).
func testConfig(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alice.token"), []byte(tokAlice+"\n"), 0o600))
	cfg := `
identities:
  - name: ci
    token: ${E2E_CI_TOKEN}
  - name: alice
    email: alice@example.com
    groups: [ops]
    resolveUnassigned: true
    tokenFile: ` + filepath.Join(dir, "alice.token") + `
  - name: bob
    groups: [ops]
    resolveUnassigned: true
    sha256: ` + sha256hex(tokBob) + `
  - name: carol
    resolveUnassigned: true
    token: ` + tokCarol + `
  - name: root
    admin: true
    token: ` + tokRoot + `
`
	path := filepath.Join(dir, "cla.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.TrimLeft(cfg, "\n")), 0o600))
	return path
}

const (
	tokCI    = "ci-secret-token-1"
	tokAlice = "alice-secret-token-2"
	tokBob   = "bob-secret-token-3"
	tokCarol = "carol-secret-token-4"
	tokRoot  = "root-secret-token-5"
)

var allTokens = []string{tokCI, tokAlice, tokBob, tokCarol, tokRoot}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore/pgtest"
)

// TestServe_PostgresStartErrors: a database cla cannot use stops serve at
// start with an error naming the problem, and nothing is written.
func TestServe_PostgresStartErrors(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	u, err := url.Parse(fresh)
	require.NoError(t, err)
	wrongPw := *u
	wrongPw.User = url.UserPassword(u.User.Username(), "definitely-wrong")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	unreachable := *u
	unreachable.Host = closed

	dir := t.TempDir()
	cfg := testConfig(t, dir)
	for _, tc := range []struct {
		name, store, want string
		env               []string
	}{
		{"wrong password", wrongPw.String(), "authentication failed (wrong user or password)", nil},
		{"unreachable", unreachable.String(), "unreachable", nil},
		{"from the environment", "", "authentication failed", []string{"CLA_STORE=" + wrongPw.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--config", cfg}
			if tc.store != "" {
				args = append(args, "--store", tc.store)
			}
			_, errOut, code := cli(t, append([]string{"E2E_CI_TOKEN=" + tokCI}, tc.env...), args...)
			require.Equal(t, exitError, code, errOut)
			require.Contains(t, errOut, tc.want)
			require.NotContains(t, errOut, "definitely-wrong", "the password never appears")
		})
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fresh)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n))
	require.Zero(t, n, "nothing was written")

	// A schema from a newer cla is refused and left alone.
	srv := startServer(t, []string{"E2E_CI_TOKEN=" + tokCI}, "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg)
	srv.stop()
	_, err = conn.Exec(ctx, `INSERT INTO cla_schema (version) VALUES (999)`)
	require.NoError(t, err)
	_, errOut, code := cli(t, []string{"E2E_CI_TOKEN=" + tokCI}, "serve", "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "schema version 999 is newer than this cla supports")

	// Without any identity token a shared store has no admin token file.
	_, errOut, code = cli(t, nil, "serve", "--store", pgtest.FreshURL(t), "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db"))
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "give at least one identity a token")
}

// TestServe_ReplicasShareOneDatabase: a job created on one replica is read,
// long-polled and changed on the others; a long-poll on replica B wakes
// when replica A changes the job (LISTEN/NOTIFY hint).
func TestServe_ReplicasShareOneDatabase(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	env := []string{"E2E_CI_TOKEN=" + tokCI}
	a := startServer(t, env, "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg)
	b := startServer(t, env, "--addr", "127.0.0.1:0", "--config", cfg, "--store", fresh)

	code, body := api(t, "POST", a.url()+"/v1/jobs", tokCI, map[string]any{"id": "rep-1", "name": "Replicated"})
	require.Equal(t, 201, code, "%v", body)
	code, got := api(t, "GET", b.url()+"/v1/jobs/rep-1", tokCI, nil)
	require.Equal(t, 200, code)
	version := got["version"].(float64)

	type answer struct {
		code int
		body map[string]any
		took time.Duration
	}
	done := make(chan answer, 1)
	go func() {
		start := time.Now()
		// no require in this goroutine: report back
		c, m := apiNoFail(b.url()+fmt.Sprintf("/v1/jobs/rep-1?wait=60s&since=%d", int(version)), tokCI)
		done <- answer{c, m, time.Since(start)}
	}()
	// Give the long-poll time to be parked before the change; if it is not
	// yet, it answers at once with the new version, which passes as well.
	code, body = api(t, "POST", a.url()+"/v1/jobs/rep-1/gates", tokCI, map[string]any{"kind": "pause", "name": "Window"})
	require.Equal(t, 201, code, "%v", body)
	select {
	case ans := <-done:
		require.Equal(t, 200, ans.code, "%v", ans.body)
		require.Greater(t, ans.body["version"].(float64), version)
		require.Less(t, ans.took, 30*time.Second, "woken by the change, not by the wait running out")
	case <-time.After(45 * time.Second):
		t.Fatal("the long-poll on replica B never woke")
	}
	code, body = api(t, "POST", b.url()+"/v1/jobs/rep-1/resume", tokCarol, map[string]any{})
	require.Equal(t, 200, code, "%v", body)
	code, got = api(t, "GET", a.url()+"/v1/jobs/rep-1", tokCI, nil)
	require.Equal(t, 200, code)
	require.Equal(t, "resumed", got["gates"].([]any)[0].(map[string]any)["outcome"])
	a.stop()
	b.stop()
}

// apiNoFail is a GET usable from any goroutine: errors become code 0.
func apiNoFail(rawURL, token string) (int, map[string]any) {
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// e2eStores maps a test's bbolt path to the PostgreSQL schema standing in
// for it, so a restarted server finds its data again.
var e2eStores sync.Map

// e2eStore runs the end-to-end tests on PostgreSQL when CLA_E2E_STORE=postgres:
// every --db path becomes --store with a fresh schema (one per path). Tests
// that rely on the bbolt-only generated admin token file (no --config) and
// the migrate test (bbolt is its source) keep bbolt.
func e2eStore(t *testing.T, args []string) []string {
	t.Helper()
	if os.Getenv("CLA_E2E_STORE") != "postgres" || !slices.Contains(args, "--config") || strings.HasPrefix(t.Name(), "TestMigrate") {
		return args
	}
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] != "--db" {
			continue
		}
		u, ok := e2eStores.Load(out[i+1])
		if !ok {
			u, _ = e2eStores.LoadOrStore(out[i+1], pgtest.FreshURL(t))
		}
		out[i], out[i+1] = "--store", u.(string)
	}
	return out
}

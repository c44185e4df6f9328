package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/jobs"
)

// TestMigrate_RoundTrip fills a bbolt database through the real server
// (jobs, every gate kind, annotations with a file, a reminder timer, a
// pending webhook notification, a spent dedupe key, deployment freezes),
// copies it into
// PostgreSQL with cla migrate, and requires the PostgreSQL-backed server
// to answer every read exactly as the bbolt one did.
func TestMigrate_RoundTrip(t *testing.T) {
	target := pgtest.FreshURL(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "cla.db")
	cfg := testConfig(t, dir)
	env := []string{"E2E_CI_TOKEN=" + tokCI}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a webhook target that refuses: the notification stays pending
	require.NoError(t, err)
	deadURL := "http://" + ln.Addr().String() + "/hook"
	require.NoError(t, ln.Close())

	srv := startServer(t, env, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg)
	base := srv.url() + "/v1/jobs"
	must := func(method, url, tok string, body any, want int) map[string]any {
		t.Helper()
		code, m := api(t, method, url, tok, body)
		require.Equal(t, want, code, "%s %s: %v", method, url, m)
		return m
	}
	for _, id := range []string{"m-1", "m-2", "m-3"} {
		must("POST", base, tokCI, map[string]any{"id": id, "name": "Deploy " + id, "context": map[string]any{"env": "prod"}}, 201)
	}
	must("POST", base+"/m-1/gates", tokCI, map[string]any{"kind": "action", "name": "Swap", "assignees": []string{"ops"}}, 201)
	must("POST", base+"/m-1/complete", tokAlice, map[string]any{"status": "successful", "message": "done"}, 200)
	must("POST", base+"/m-1/annotations", tokAlice, map[string]any{"kind": "file", "name": "out.txt", "contentBase64": "aGVsbG8K"}, 201)
	must("POST", base+"/m-1/annotations", tokAlice, map[string]any{"kind": "comment", "text": "looks fine"}, 201)
	must("POST", base+"/m-2/gates", tokCI, map[string]any{"kind": "approval", "name": "Go live", "required": 1,
		"timeout": "240h", "reminder": map[string]any{"interval": "48h"},
		"channels": []map[string]any{{"type": "webhook", "url": deadURL}}}, 201)
	must("PATCH", base+"/m-3", tokCI, map[string]any{"status": "successful", "message": "deployed"}, 200)
	// Two deployment freezes (scoped to an environment no job here is in,
	// so the copy's later approve is not refused) and one lifted: lifted
	// freezes are deleted, so two are copied.
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	for _, reason := range []string{"quarter end", "audit", "lifted soon"} {
		f := must("POST", srv.url()+"/v1/freezes", tokRoot, map[string]any{"reason": reason, "until": until,
			"environments": []string{"staging"}, "blockCompletion": reason == "audit"}, 201)
		if reason == "lifted soon" {
			must("DELETE", srv.url()+"/v1/freezes/"+f["id"].(string), tokRoot, nil, 200)
		}
	}
	// The outbox settles the webhook notification (skipped: no webhook
	// secret configured) before the copy, so both servers show the same log.
	ctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	waitFor(t, ctx, func() bool { return strings.Contains(logText(t, srv, "m-2"), "skipped") })
	srv.stop()

	snapshot := func(url string) map[string]any {
		out := map[string]any{}
		_, out["list"] = api(t, "GET", url+"/v1/jobs?limit=50", tokCI, nil)
		_, out["freezes"] = api(t, "GET", url+"/v1/freezes", tokRoot, nil)
		for _, id := range []string{"m-1", "m-2", "m-3"} {
			_, out[id] = api(t, "GET", url+"/v1/jobs/"+id, tokCI, nil)
			_, out[id+"/log"] = api(t, "GET", url+"/v1/jobs/"+id+"/log", tokCI, nil)
		}
		return out
	}
	srv = startServer(t, env, "--db", db, "--addr", "127.0.0.1:0", "--config", cfg)
	want := snapshot(srv.url())
	srv.stop()
	require.Len(t, want["freezes"].(map[string]any)["freezes"], 2, "the snapshot holds the freezes to compare")

	t.Run("bad input writes nothing", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"migrate", "--to", target}, "--from (the bbolt file) is required"},
			{[]string{"migrate", "--from", db, "--to", filepath.Join(dir, "other.db")}, "--to must be a postgres:// URL"},
			{[]string{"migrate", "--from", filepath.Join(dir, "missing.db"), "--to", target}, "missing.db does not exist"},
		} {
			_, errOut, code := cli(t, nil, tc.args...)
			require.Equal(t, exitError, code)
			require.Contains(t, errOut, tc.want)
		}
	})

	out, errOut, code := cli(t, nil, "migrate", "--from", db, "--to", target)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "copied 3 jobs")
	require.Contains(t, out, "counts verified")
	require.Contains(t, out, "0 pending and 1 delivered notifications", "the settled notification id is copied")
	require.Contains(t, out, "2 freezes; counts verified")
	require.Contains(t, out, "(2 annotations and 1 files too)", "annotation records and file bytes are counted and verified too")

	_, errOut, code = cli(t, nil, "migrate", "--from", db, "--to", target)
	require.Equal(t, exitError, code, "a non-empty target is refused")
	require.Contains(t, errOut, "is not empty (3 jobs")
	out, errOut, code = cli(t, nil, "migrate", "--from", db, "--to", target, "--force")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "copied 3 jobs")

	// The copied outbox has its lanes and heads: the next pass finds the
	// pending webhook notification (if bbolt's worker had not dropped it
	// yet: the target is refused) through the heads index.
	pending := regexp.MustCompile(`(\d+) pending`).FindStringSubmatch(out)
	require.NotNil(t, pending, out)
	pg, err := pgstore.Open(context.Background(), target, pgstore.Options{})
	require.NoError(t, err)
	work, err := pg.OutboxDue(context.Background(), jobs.OutboxQuery{At: time.Now().Add(24 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, pending[1], strconv.Itoa(len(work.Lanes)), "one lane per pending notification here")
	for _, l := range work.Lanes {
		require.Equal(t, "webhook\x00"+deadURL, l.Key)
		require.Equal(t, "m-2", l.Items[0].JobID)
	}
	require.NoError(t, pg.Close())

	srv = startServer(t, env, "--store", target, "--addr", "127.0.0.1:0", "--config", cfg)
	got := snapshot(srv.url())
	require.Equal(t, want, got, "PostgreSQL serves exactly what bbolt served")
	req, err := http.NewRequest("GET", srv.url()+"/v1/jobs/m-1/annotations/1/content", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tokCI)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	file, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, "hello\n", string(file), "file bytes are copied apart from the log")
	// The copy is live: the reminder timer, the pending notification and the
	// log sequence carry on from where bbolt left them.
	must("POST", srv.url()+"/v1/jobs/m-2/approve", tokAlice, map[string]any{"message": "ok"}, 200)
	_, logAfter := api(t, "GET", srv.url()+"/v1/jobs/m-2/log", tokCI, nil)
	before := want["m-2/log"].(map[string]any)["entries"].([]any)
	after := logAfter["entries"].([]any)
	require.Greater(t, len(after), len(before))
	last := before[len(before)-1].(map[string]any)["seq"].(float64)
	require.Equal(t, last+1, after[len(before)].(map[string]any)["seq"], "the log sequence continues")
	srv.stop()
}

package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// newQuotaFixture is newFixture with the service's per-job quotas set.
func newQuotaFixture(t *testing.T, q jobs.Quotas) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Quotas: q})
	api := web.New(web.Config{Service: svc, Keyring: web.NewKeyring(testIdentities()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		api.Stop()
		srv.Close()
		_ = db.Close()
	})
	return &fixture{t: t, srv: srv, api: api, svc: svc, db: db}
}

type logPage struct {
	Entries []jobs.LogEntry `json:"entries"`
}

func (f *fixture) logPage(id string, after uint64) (logPage, int) {
	f.t.Helper()
	r := f.call("GET", fmt.Sprintf("/v1/jobs/%s/log?after=%d", id, after), tokAlice, nil)
	require.Equal(f.t, http.StatusOK, r.status, "%s", r.body)
	var p logPage
	require.NoError(f.t, json.Unmarshal(r.body, &p))
	return p, len(r.body)
}

func fileBody(name string, content []byte) map[string]any {
	return map[string]any{"kind": "file", "name": name, "contentBase64": base64.StdEncoding.EncodeToString(content)}
}

// TestServer_LogReferencesFiles: the review read 42 MB of file contents
// inline from GET /log. Entries now refer to the content route, and the
// bytes come only from there.
func TestServer_LogReferencesFiles(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-1", "name": "x"}).status)
	file := bytes.Repeat([]byte("0123456789abcdef"), 60<<10) // 960 KiB
	for i := 0; i < 3; i++ {
		r := f.call("POST", "/v1/jobs/qa-1/annotations", tokCI, fileBody(fmt.Sprintf("dump-%d.bin", i), file))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		require.Less(t, len(r.body), 8<<10, "the 201 answer does not echo the file either")
	}
	page, size := f.logPage("qa-1", 0)
	require.Less(t, size, 16<<10, "2.8 MiB of files, a log page of a few KiB")
	var refs []string
	for _, e := range page.Entries {
		if e.Fields["annotationKind"] == jobs.AnnotationFile {
			refs = append(refs, e.Fields["content"])
			require.Equal(t, fmt.Sprint(len(file)), e.Fields["size"])
		}
	}
	require.Equal(t, []string{"/v1/jobs/qa-1/annotations/1/content", "/v1/jobs/qa-1/annotations/2/content",
		"/v1/jobs/qa-1/annotations/3/content"}, refs)
	r := f.call("GET", refs[1], tokAlice, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, file, r.body, "the bytes come from the content route")

	// The stream carries references too.
	req, err := http.NewRequest("GET", f.srv.URL+"/v1/jobs/qa-1/log", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tokAlice)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 64<<10)
	n, read := 0, 0
	for !bytes.Contains(buf[:n], []byte("annotations/3/content")) && n < len(buf) {
		read, err = resp.Body.Read(buf[n:])
		require.NoError(t, err)
		n += read
	}
	require.NotContains(t, string(buf[:n]), "contentBase64")
	require.Less(t, n, 16<<10)
}

// TestServer_LogPagesCappedBySize: a page holds at most limits.logPageBytes
// (1 MiB by default) of entries, not a thousand entries of any size; the
// reader pages on with ?after= and misses nothing.
func TestServer_LogPagesCappedBySize(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-1", "name": "x"}).status)
	text := strings.Repeat("log line of a chatty build\n", 3800) // ~100 KiB
	const n = 30
	for i := 0; i < n; i++ {
		r := f.call("POST", "/v1/jobs/qa-1/annotations", tokCI, map[string]any{"kind": "log", "text": text})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	}
	seen, pages := 0, 0
	var after uint64
	for {
		page, size := f.logPage("qa-1", after)
		if len(page.Entries) == 0 {
			break
		}
		pages++
		require.Less(t, size, 1<<20+len(text)+16<<10, "page %d is %d bytes", pages, size)
		for _, e := range page.Entries {
			require.Equal(t, after+1, e.Seq, "no entry skipped")
			after = e.Seq
			if e.Kind == jobs.LogAnnotation {
				seen++
			}
		}
	}
	require.Equal(t, n, seen)
	require.GreaterOrEqual(t, pages, 3, "3 MiB of log in pages of at most 1 MiB")

	t.Run("a page cut by size says so", func(t *testing.T) {
		r := f.call("GET", "/v1/jobs/qa-1/log", tokAlice, nil)
		require.Equal(t, true, r.json()["more"])
		r = f.call("GET", fmt.Sprintf("/v1/jobs/qa-1/log?after=%d", after-1), tokAlice, nil)
		require.Nil(t, r.json()["more"], "the last page")
	})
	t.Run("the stream goes on past a page cut by size", func(t *testing.T) {
		req, err := http.NewRequest("GET", f.srv.URL+"/v1/jobs/qa-1/log", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tokAlice)
		req.Header.Set("Accept", "text/event-stream")
		// A stalled stream fails the read when the deadline passes, instead
		// of hanging the test.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		require.NoError(t, err)
		defer resp.Body.Close()
		want := fmt.Sprintf("id: %d\n", after)
		var got []byte
		buf := make([]byte, 256<<10)
		for !bytes.Contains(got, []byte(want)) {
			n, err := resp.Body.Read(buf)
			require.NoError(t, err, "the stream stalled after %d bytes", len(got))
			got = append(got, buf[:n]...)
		}
		require.Equal(t, n+1, bytes.Count(got, []byte("event: log")), "every entry, with no new append to wake it")
	})
	t.Run("an entry larger than a page still comes alone", func(t *testing.T) {
		small := newQuotaFixture(t, jobs.Quotas{LogPageBytes: 1000})
		require.Equal(t, http.StatusCreated, small.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-2", "name": "x"}).status)
		require.Equal(t, http.StatusCreated, small.call("POST", "/v1/jobs/qa-2/annotations", tokCI, map[string]any{"kind": "log", "text": text}).status)
		page, _ := small.logPage("qa-2", 1)
		require.Len(t, page.Entries, 1, "at least one entry, so a reader moves on")
		require.Equal(t, text, page.Entries[0].Text)
	})
}

// TestServer_JobQuotas: one payload over the size cap is 413, a job whose
// quota is used up answers 429; both name the limit and its config key,
// and a refusal changes nothing.
func TestServer_JobQuotas(t *testing.T) {
	f := newQuotaFixture(t, jobs.Quotas{JobAnnotations: 4, JobAnnotationBytes: 3000, JobFiles: 1, JobLogEntries: 10})
	for _, id := range []string{"qa-1", "qa-2"} {
		require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": id, "name": "x"}).status)
	}
	post := func(id string, body map[string]any) reply {
		return f.call("POST", "/v1/jobs/"+id+"/annotations", tokCI, body)
	}
	require.Equal(t, http.StatusCreated, post("qa-1", fileBody("a.txt", []byte("first file"))).status)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"one payload over the size cap", map[string]any{"kind": "comment", "text": strings.Repeat("x", 1<<20+1)}, 413, "too_large", "limits.annotationBytes"},
		{"a second file", fileBody("b.txt", []byte("second")), 429, "quota_exceeded", "the most limits.jobFiles allows (1)"},
		{"bytes over the job's quota", map[string]any{"kind": "comment", "text": strings.Repeat("y", 2995)}, 429, "quota_exceeded", "limits.jobAnnotationBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post("qa-1", tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Equal(t, tc.code, r.code())
			require.Contains(t, r.json()["error"], tc.msg)
		})
	}
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusCreated, post("qa-1", map[string]any{"kind": "comment", "text": "ok"}).status)
	}
	r := post("qa-1", map[string]any{"kind": "comment", "text": "one too many"})
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Contains(t, r.json()["error"], "job qa-1 has 4 annotations, the most limits.jobAnnotations allows (4)")
	job := f.job("qa-1")
	require.Equal(t, 4, job.AnnotationCount, "refusals change nothing")
	require.Equal(t, 1, job.FileCount)
	require.Len(t, job.Annotations, 4)
	require.Equal(t, http.StatusCreated, post("qa-2", fileBody("a.txt", []byte("another job"))).status, "quotas are per job")

	t.Run("log entries", func(t *testing.T) {
		ctx := context.Background()
		count, err := f.db.LogCount(ctx, "qa-2")
		require.NoError(t, err)
		room := 10 - int(count)
		batch := make([]jobs.LogEntry, room)
		for i := range batch {
			batch[i] = jobs.LogEntry{Kind: jobs.LogMessage, Text: "chat"}
		}
		_, err = f.svc.AppendLog(ctx, "qa-2", batch)
		require.NoError(t, err)
		_, err = f.svc.AppendLog(ctx, "qa-2", []jobs.LogEntry{{Kind: jobs.LogMessage, Text: "one more"}})
		require.Equal(t, jobs.EQUOTA, jobs.ErrorCode(err))
		require.Contains(t, jobs.ErrorMessage(err), "the most limits.jobLogEntries allows (10)")
		after, err := f.db.LogCount(ctx, "qa-2")
		require.NoError(t, err)
		require.Equal(t, uint64(10), after, "nothing appended")
	})
}

// TestServer_KeyedAnnotationRetryAtQuota: a keyed annotation that took a
// job's last slot is still answered as made when it is delivered again (a
// Slack redelivery, a retried call), not refused as over the quota.
func TestServer_KeyedAnnotationRetryAtQuota(t *testing.T) {
	f := newQuotaFixture(t, jobs.Quotas{JobAnnotations: 1})
	require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-1", "name": "x"}).status)
	ctx := context.Background()
	actor := jobs.Identity{Name: "ci"}
	in := jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "from Slack", Key: "Ev1"}
	_, err := f.svc.Annotate(ctx, actor, jobs.ViaSlack, "qa-1", in)
	require.NoError(t, err)
	job, err := f.svc.Annotate(ctx, actor, jobs.ViaSlack, "qa-1", in)
	require.NoError(t, err, "the redelivery of an annotation already made")
	require.Equal(t, 1, job.AnnotationCount)
	_, err = f.svc.Annotate(ctx, actor, jobs.ViaSlack, "qa-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "new", Key: "Ev2"})
	require.Equal(t, jobs.EQUOTA, jobs.ErrorCode(err), "a new keyed annotation is still refused")
}

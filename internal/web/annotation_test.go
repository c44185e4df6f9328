package web_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

func TestServer_AnnotationContent(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-1", "name": "x"}).status)
	page := "<html><script>alert(1)</script></html>"
	for _, a := range []map[string]any{
		{"kind": "comment", "text": "hello"},
		{"kind": "file", "name": "page.html", "contentBase64": base64.StdEncoding.EncodeToString([]byte(page))},
		{"kind": "file", "name": "disk.png", "contentType": "image/png", "contentBase64": base64.StdEncoding.EncodeToString([]byte("\x89PNG...."))},
		{"kind": "misc", "data": map[string]any{"build": 812, "commit": "abc123"}},
		{"kind": "file", "name": "big.iso", "permalink": "https://slack.example/files/F1", "data": map[string]any{"size": 20 << 20}},
	} {
		require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs/qa-1/annotations", tokCI, a).status)
	}

	r := f.call("GET", "/v1/jobs/qa-1/annotations/2/content", tokAlice, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, page, string(r.body))
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"), "detected, but never rendered:")
	require.Equal(t, `attachment; filename=page.html`, r.header.Get("Content-Disposition"))
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	require.Contains(t, r.header.Get("Content-Security-Policy"), "sandbox")

	r = f.call("GET", "/v1/jobs/qa-1/annotations/3/content", tokAlice, nil)
	require.Equal(t, "image/png", r.header.Get("Content-Type"))

	cases := []struct {
		path, code, msg string
		status          int
	}{
		{"/v1/jobs/qa-1/annotations/9/content", "not_found", "job qa-1 has no annotation 9 (it has 5)", 404},
		{"/v1/jobs/qa-1/annotations/0/content", "invalid", "whole number from 1", 400},
		{"/v1/jobs/qa-1/annotations/two/content", "invalid", "whole number from 1", 400},
		{"/v1/jobs/qa-1/annotations/1/content", "invalid", "annotation 1 of job qa-1 is a comment, not a file", 400},
		{"/v1/jobs/qa-1/annotations/5/content", "invalid", "kept only the file's metadata; it is at https://slack.example/files/F1", 400},
		{"/v1/jobs/nope/annotations/1/content", "not_found", "", 404},
	}
	for _, tc := range cases {
		r := f.call("GET", tc.path, tokAlice, nil)
		require.Equal(t, tc.status, r.status, tc.path)
		require.Equal(t, tc.code, r.code(), tc.path)
		require.Contains(t, r.json()["error"], tc.msg, tc.path)
	}
	require.Equal(t, http.StatusUnauthorized, f.call("GET", "/v1/jobs/qa-1/annotations/2/content", "", nil).status)

	job := f.job("qa-1")
	require.Equal(t, "build=812 commit=abc123", job.Annotations[3].Preview, "misc data reads as text")
	require.Equal(t, 20<<20, job.Annotations[4].Size)
	entries, err := f.svc.Log(context.Background(), "qa-1", 0, 100)
	require.NoError(t, err)
	require.Equal(t, "build=812 commit=abc123", entries[len(entries)-2].Text)

	cl := client.New(f.srv.URL, tokBob)
	got, err := cl.GetAnnotationContent(context.Background(), "qa-1", 3)
	require.NoError(t, err)
	defer got.Body.Close()
	require.Equal(t, "disk.png", got.Name)
	_, err = cl.GetAnnotationContent(context.Background(), "qa-1", 42)
	require.True(t, client.IsCode(err, jobs.ENOTFOUND))
}

// TestServer_AnnotationTooLarge: a too-large upload names the file limit
// (1 MiB), not the request body limit.
func TestServer_AnnotationTooLarge(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, http.StatusCreated, f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-2", "name": "x"}).status)
	for _, size := range []int{1<<20 + 1, 3 << 20} {
		body := map[string]any{"kind": "file", "name": "big.bin", "contentBase64": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", size)))}
		r := f.call("POST", "/v1/jobs/qa-2/annotations", tokCI, body)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, r.status)
		require.Contains(t, r.json()["error"], "1 MiB", "size %d: %s", size, r.body)
		require.NotContains(t, r.json()["error"], "request body", "size %d", size)
	}
	require.Empty(t, f.job("qa-2").Annotations, "nothing is kept")
}

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

// TestServer_BadInputs sends one bad request per row and checks the status,
// the stable code, and that the job did not change.
func TestServer_BadInputs(t *testing.T) {
	f := newFixture(t)
	f.actionJob("qa-1", jobs.GateConfig{RequireEvidence: true, Assignees: []string{"ops"}})
	f.actionJob("qa-done", jobs.GateConfig{})
	f.call("POST", "/v1/jobs/qa-done/complete", tokAlice, map[string]any{"status": "successful"})
	_, err := f.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "qa-2", Name: "no gate"})
	require.NoError(t, err)
	big := `{"status":"successful","message":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
		job                       string
		contains                  string
	}{
		{"unknown job", "GET", "/v1/jobs/nope", tokAlice, nil, 404, "not_found", "", ""},
		{"unknown job complete", "POST", "/v1/jobs/nope/complete", tokAlice, map[string]any{"status": "successful"}, 404, "not_found", "", ""},
		{"malformed json", "POST", "/v1/jobs/qa-1/complete", tokAlice, `{"status": "successful",`, 400, "bad_json", "qa-1", ""},
		{"wrong json type", "POST", "/v1/jobs/qa-2/gates", tokAlice, `{"kind":"action","name":"x","required":"two"}`, 400, "bad_json", "qa-2", "required"},
		{"oversized body", "POST", "/v1/jobs/qa-1/complete", tokAlice, big, 413, "too_large", "qa-1", ""},
		{"bad id", "GET", "/v1/jobs/Bad..ID!", tokAlice, nil, 400, "invalid", "", ""},
		{"bad id on change", "POST", "/v1/jobs/UPPER/approve", tokAlice, nil, 400, "invalid", "", ""},
		{"unknown gate kind", "POST", "/v1/jobs/qa-2/gates", tokAlice, map[string]any{"kind": "vote", "name": "x"}, 400, "invalid", "qa-2", "vote"},
		{"missing evidence", "POST", "/v1/jobs/qa-1/complete", tokAlice, map[string]any{"status": "successful"}, 400, "invalid", "qa-1", "evidence"},
		{"bad completion status", "POST", "/v1/jobs/qa-1/complete", tokAlice, map[string]any{"status": "done"}, 400, "invalid", "qa-1", ""},
		{"wrong user", "POST", "/v1/jobs/qa-1/complete", tokCarol, map[string]any{"status": "successful", "evidence": map[string]any{"message": "done"}}, 403, "forbidden", "qa-1", "carol"},
		{"template error", "POST", "/v1/jobs/qa-2/gates", tokAlice, map[string]any{"kind": "action", "name": "x", "description": "fix {[ .missing.key ]}"}, 400, "invalid", "qa-2", "template"},
		{"second resolution", "POST", "/v1/jobs/qa-done/complete", tokBob, map[string]any{"status": "failure"}, 409, "conflict", "qa-done", "already resolved"},
		{"wrong gate kind", "POST", "/v1/jobs/qa-1/approve", tokAlice, nil, 409, "conflict", "qa-1", ""},
		{"gate already open", "POST", "/v1/jobs/qa-1/gates", tokAlice, map[string]any{"kind": "pause", "name": "p"}, 409, "conflict", "qa-1", ""},
		{"bad decision", "POST", "/v1/jobs/qa-1/decide", tokAlice, map[string]any{"decision": "maybe"}, 400, "invalid", "qa-1", ""},
		{"bad progress status", "PATCH", "/v1/jobs/qa-2", tokAlice, map[string]any{"status": "paused"}, 400, "invalid", "qa-2", ""},
		{"duplicate id", "POST", "/v1/jobs", tokAlice, map[string]any{"id": "qa-2", "name": "again"}, 409, "conflict", "qa-2", ""},
		{"missing name", "POST", "/v1/jobs", tokAlice, map[string]any{"id": "qa-3"}, 400, "invalid", "", ""},
		{"bad annotation", "POST", "/v1/jobs/qa-1/annotations", tokAlice, map[string]any{"kind": "poem"}, 400, "invalid", "qa-1", ""},
		{"bad limit", "GET", "/v1/jobs?limit=many", tokAlice, nil, 400, "invalid", "", ""},
		{"bad wait", "GET", "/v1/jobs/qa-1?wait=soon", tokAlice, nil, 400, "invalid", "qa-1", ""},
		{"bad since", "GET", "/v1/jobs/qa-1?wait=1s&since=x", tokAlice, nil, 400, "invalid", "qa-1", ""},
		{"missing token", "POST", "/v1/jobs/qa-1/complete", "", map[string]any{"status": "failure"}, 401, "unauthorized", "qa-1", ""},
		{"wrong token", "POST", "/v1/jobs/qa-1/complete", "nope", map[string]any{"status": "failure"}, 401, "unauthorized", "qa-1", ""},
		{"unknown route", "GET", "/v1/nothing", tokAlice, nil, 404, "not_found", "", ""},
		{"wrong method", "DELETE", "/v1/jobs/qa-1", tokAlice, nil, 405, "method_not_allowed", "qa-1", ""},
		{"talkback not configured", "POST", "/v1/talkback/reload", tokAdmin, nil, 404, "not_found", "", ""},
		{"callbacks not configured", "POST", "/v1/callbacks/abc", "", nil, 404, "not_found", "", ""},
		{"checklist without item", "POST", "/v1/jobs/qa-1/checklist", tokAlice, map[string]any{"checked": true}, 400, "invalid", "qa-1", ""},
		{"checklist item out of range", "POST", "/v1/jobs/qa-1/checklist", tokAlice, map[string]any{"item": 5, "checked": true}, 400, "invalid", "qa-1", "does not exist"},
		{"checklist negative item", "POST", "/v1/jobs/qa-1/checklist", tokAlice, map[string]any{"item": -1, "checked": true}, 400, "invalid", "qa-1", "does not exist"},
		{"reassign to nobody", "POST", "/v1/jobs/qa-1/reassign", tokAlice, map[string]any{"assignees": []string{}}, 400, "invalid", "qa-1", "at least one assignee"},
		{"reassign without assignees", "POST", "/v1/jobs/qa-1/reassign", tokAlice, `{}`, 400, "invalid", "qa-1", "at least one assignee"},
		{"reassign unknown job", "POST", "/v1/jobs/nope/reassign", tokAlice, map[string]any{"assignees": []string{"bob"}}, 404, "not_found", "", ""},
		{"reassign by a stranger", "POST", "/v1/jobs/qa-1/reassign", tokCarol, map[string]any{"assignees": []string{"carol"}}, 403, "forbidden", "qa-1", "carol may not reassign"},
		{"reassign without a gate", "POST", "/v1/jobs/qa-2/reassign", tokAlice, map[string]any{"assignees": []string{"bob"}}, 409, "conflict", "qa-2", "no open gate"},
		{"file not base64", "POST", "/v1/jobs/qa-1/annotations", tokAlice, map[string]any{"kind": "file", "name": "a.txt", "contentBase64": "!!!"}, 400, "bad_json", "qa-1", "base64"},
		{"file without content", "POST", "/v1/jobs/qa-1/annotations", tokAlice, map[string]any{"kind": "file", "name": "a.txt"}, 400, "invalid", "qa-1", "contentBase64"},
		{"empty comment", "POST", "/v1/jobs/qa-1/annotations", tokAlice, map[string]any{"kind": "comment", "text": " \n "}, 400, "invalid", "qa-1", "needs text"},
		{"oversized comment", "POST", "/v1/jobs/qa-1/annotations", tokAlice, map[string]any{"kind": "comment", "text": strings.Repeat("x", 1<<20+1)}, 413, "too_large", "qa-1", "the limit is 1048576 bytes (1 MiB) for a file or text annotation (limits.annotationBytes)"},
		{"oversized annotation body", "POST", "/v1/jobs/qa-1/annotations", tokAlice, `{"kind":"comment","text":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large", "qa-1", ""},
		{"approve unknown job", "POST", "/v1/jobs/nope/approve", tokAlice, nil, 404, "not_found", "", ""},
		{"decide unknown job", "POST", "/v1/jobs/nope/decide", tokAlice, map[string]any{"decision": "retry"}, 404, "not_found", "", ""},
		{"log of unknown job", "GET", "/v1/jobs/nope/log", tokAlice, nil, 404, "not_found", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before uint64
			if tc.job != "" {
				before = f.job(tc.job).Version
			}
			r := f.call(tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, r.status, "body: %s", r.body)
			require.Equal(t, tc.code, r.code(), "body: %s", r.body)
			require.Contains(t, r.header.Get("Content-Type"), "application/json")
			msg, _ := r.json()["error"].(string)
			require.NotEmpty(t, msg)
			require.Contains(t, msg, tc.contains)
			if tc.job != "" {
				require.Equal(t, before, f.job(tc.job).Version, "job %s changed", tc.job)
			}
			if tc.status == http.StatusUnauthorized {
				require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

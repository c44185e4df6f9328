package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

func TestServer_JobFlow(t *testing.T) {
	f := newFixture(t)
	r := f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "qa-1234", "name": "Deploy v3.1.0",
		"context": map[string]any{"resource": map[string]any{"name": "node-7"}}, "extra": "ignored"})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.Equal(t, "/v1/jobs/qa-1234", r.header.Get("Location"))
	require.Equal(t, "ci", r.json()["requester"])

	r = f.call("POST", "/v1/jobs/qa-1234/gates", tokCI, map[string]any{"kind": "action", "name": "Swap disk",
		"description": "Replace the disk in {[ .resource.name ]}", "assignees": []string{"ops"}, "requireEvidence": true,
		"checklist": []string{"power off", "swap"}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.Equal(t, "Replace the disk in node-7", r.json()["description"])

	for i := range 2 {
		r = f.call("POST", "/v1/jobs/qa-1234/checklist", tokBob, map[string]any{"item": i, "checked": true})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	}
	r = f.call("POST", "/v1/jobs/qa-1234/complete", tokAlice, map[string]any{"status": "successful",
		"message": "swapped", "evidence": "https://tickets.example.com/42"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "qa-1234", r.json()["jobId"])
	require.Equal(t, "successful", r.json()["status"], "the RFC's answer: the status asked for")
	require.Equal(t, "in_progress", r.json()["job"].(map[string]any)["status"], "a gate opened later hands the job back to the pipeline")
	g := f.job("qa-1234").Gates[0]
	require.Equal(t, "alice", *g.ResolvedBy)
	require.Equal(t, "api", *g.ResolvedVia)
	require.Equal(t, "https://tickets.example.com/42", g.Evidence.URL)

	r = f.call("POST", "/v1/jobs/qa-1234/gates", tokCI, map[string]any{"kind": "approval", "name": "Go live", "required": 2})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	r = f.call("POST", "/v1/jobs/qa-1234/approve", tokCI, map[string]any{})
	require.Equal(t, http.StatusForbidden, r.status, "requester self-approval: %s", r.body)
	for _, tok := range []string{tokAlice, tokBob} {
		r = f.call("POST", "/v1/jobs/qa-1234/approve", tok, map[string]any{"message": "lgtm"})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	}
	require.Equal(t, "in_progress", r.json()["status"])

	r = f.call("POST", "/v1/jobs/qa-1234/gates", tokCI, map[string]any{"kind": "pause", "name": "Wait"})
	require.Equal(t, http.StatusCreated, r.status)
	r = f.call("POST", "/v1/jobs/qa-1234/reassign", tokCI, map[string]any{"assignees": []string{"carol"}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	r = f.call("POST", "/v1/jobs/qa-1234/resume", tokCarol, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	r = f.call("PATCH", "/v1/jobs/qa-1234", tokCI, map[string]any{"status": "successful", "message": "deployed"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "successful", r.json()["status"])

	r = f.call("POST", "/v1/jobs/qa-1234/annotations", tokAlice, map[string]any{"kind": "file", "name": "out.txt", "contentBase64": "aGVsbG8="})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)

	r = f.call("GET", "/v1/jobs?status=successful&limit=10", tokCarol, nil)
	require.Equal(t, http.StatusOK, r.status)
	var page jobs.JobPage
	require.NoError(t, json.Unmarshal(r.body, &page))
	require.Len(t, page.Jobs, 1)
	require.Equal(t, "qa-1234", page.Jobs[0].ID)
}

func TestServer_Decide(t *testing.T) {
	f := newFixture(t)
	f.call("POST", "/v1/jobs", tokCI, map[string]any{"id": "t-1", "name": "trap"})
	r := f.call("POST", "/v1/jobs/t-1/gates", tokCI, map[string]any{"kind": "trap", "name": "step failed"})
	require.Equal(t, http.StatusCreated, r.status)
	r = f.call("POST", "/v1/jobs/t-1/complete", tokCI, map[string]any{"status": "successful"})
	require.Equal(t, http.StatusConflict, r.status, "complete on a trap: %s", r.body)
	r = f.call("POST", "/v1/jobs/t-1/decide", tokCI, map[string]any{"decision": "abort"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "failure", r.json()["status"])
}

// TestServer_ConcurrentResolve races 100 completions of one gate: exactly
// one wins and every loser is told who won.
func TestServer_ConcurrentResolve(t *testing.T) {
	f := newFixture(t)
	f.actionJob("race-1", jobs.GateConfig{})
	const n = 100
	results := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok := []string{tokAlice, tokBob, tokCarol}[i%3]
			results[i] = f.call("POST", "/v1/jobs/race-1/complete", tok, map[string]any{"status": "successful"})
		}()
	}
	close(start)
	wg.Wait()
	winners, losers := 0, 0
	job := f.job("race-1")
	winner := *job.Gates[0].ResolvedBy
	for _, r := range results {
		switch r.status {
		case http.StatusOK:
			winners++
		case http.StatusConflict:
			losers++
			require.Equal(t, "conflict", r.code())
			msg := r.json()["error"].(string)
			require.True(t, strings.Contains(msg, "by "+winner+" via api"), "409 must name the winner: %s", msg)
		default:
			t.Fatalf("unexpected status %d: %s", r.status, r.body)
		}
	}
	require.Equal(t, 1, winners)
	require.Equal(t, n-1, losers)
	require.Equal(t, jobs.StatusSuccessful, job.Status)
}

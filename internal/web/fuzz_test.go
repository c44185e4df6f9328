package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cla-ops/cla/jobs"
)

// FuzzServer_Complete sends arbitrary bodies to the completion API: the
// server never answers 500, always answers JSON, and a refused request
// never changes the job.
func FuzzServer_Complete(f *testing.F) {
	for _, s := range []string{`{"status":"successful"}`, `{"status":"failure","evidence":"x"}`,
		`{"status":"successful","evidence":{"url":"https://x"}}`, `{`, `[]`, `null`, `{"evidence":7}`, ``} {
		f.Add(s)
	}
	fx := newFixture(f)
	n := 0
	f.Fuzz(func(t *testing.T, body string) {
		n++
		id := fmt.Sprintf("fz-%d", n)
		fx.t = t
		fx.actionJob(id, jobs.GateConfig{RequireEvidence: true})
		before := fx.job(id).Version
		r := fx.call("POST", "/v1/jobs/"+id+"/complete", tokAlice, body)
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
		if r.status != http.StatusOK && fx.job(id).Version != before {
			t.Fatalf("refused request %q changed the job", body)
		}
		if r.status != http.StatusOK && r.code() == "" {
			t.Fatalf("error without code for %q: %s", body, r.body)
		}
	})
}

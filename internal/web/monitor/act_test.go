package monitor

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func actionGate() *jobs.GateConfig {
	return &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap failed disk", Assignees: []string{"ops"},
		RequireEvidence: true, Timeout: "PT24H"}
}

func TestMonitor_csrf(t *testing.T) {
	f := newFixture(t)
	f.createJob("qa-1", "Deploy", actionGate())
	alice, bob := f.signIn("alice"), f.signIn("bob")
	before := f.job("qa-1")
	for name, token := range map[string]string{
		"forged":        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"missing":       "",
		"other session": bob.csrf,
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"action": {"complete"}, "gate": {"g1"}, "evidence_message": {"done"}}
			if token != "" {
				form.Set("csrf", token)
			} else {
				form.Set("csrf", "")
			}
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/jobs/qa-1/resolve", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := alice.do(req)
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Contains(t, body, "did not come from this site")
			after := f.job("qa-1")
			require.Equal(t, before.Version, after.Version)
			require.Equal(t, jobs.StatusActionRequired, after.Status)
		})
	}
	for _, path := range []string{"/jobs/qa-1/checklist", "/jobs/qa-1/annotations"} {
		t.Run("forged on "+path, func(t *testing.T) {
			resp, _ := alice.act(path, url.Values{"csrf": {"x"}, "item": {"0"}, "checked": {"1"}, "text": {"hi"}})
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Equal(t, before.Version, f.job("qa-1").Version)
		})
	}
}

func TestMonitor_resolve(t *testing.T) {
	f := newFixture(t)
	f.createJob("qa-1", "Deploy", actionGate())
	alice, carol := f.signIn("alice"), f.signIn("carol")

	t.Run("missing evidence is shown next to the field", func(t *testing.T) {
		resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"}, "message": {"kept"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, body, `id="ev-err-g1" role="alert">This step needs evidence`)
		require.Contains(t, body, `aria-invalid="true"`)
		require.Contains(t, body, ">kept</textarea>", "what was typed is kept")
		require.Equal(t, jobs.StatusActionRequired, f.job("qa-1").Status)
	})
	t.Run("bad evidence link is refused", func(t *testing.T) {
		resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"},
			"evidence_url": {"javascript:alert(1)"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, body, "full http:// or https:// address")
		require.NotContains(t, body, `href="javascript:`)
	})
	t.Run("not an assignee", func(t *testing.T) {
		_, page := carol.get("/jobs/qa-1")
		require.Contains(t, page, "only its assignees can act")
		require.NotContains(t, page, `value="complete"`)
		resp, body := carol.act("/jobs/qa-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"}, "evidence_message": {"x"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, body, "carol is not an assignee")
	})
	t.Run("unknown action", func(t *testing.T) {
		resp, _ := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"explode"}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("complete records via web", func(t *testing.T) {
		counted := testutil.ToFloat64(f.mon.cfg.Metrics.actions.WithLabelValues("complete", "ok"))
		resp, _ := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"},
			"evidence_message": {"swapped"}, "evidence_url": {"https://tickets.example/1"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/jobs/qa-1?done=complete#gates", resp.Header.Get("Location"))
		job := f.job("qa-1")
		g := job.Gate("g1")
		require.Equal(t, jobs.StatusSuccessful, job.Status)
		require.Equal(t, "alice", *g.ResolvedBy)
		require.Equal(t, jobs.ViaWeb, *g.ResolvedVia)
		require.Equal(t, "https://tickets.example/1", g.Evidence.URL)
		require.Equal(t, counted+1, testutil.ToFloat64(f.mon.cfg.Metrics.actions.WithLabelValues("complete", "ok")))
		_, page := alice.get("/jobs/qa-1?done=complete")
		require.Contains(t, page, "Marked as completed.")
		require.Contains(t, page, "Completed by <strong>alice</strong> via web")
	})
	t.Run("stale page gets who was first", func(t *testing.T) {
		resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"fail"}, "gate": {"g1"}})
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, body, "already resolved (successful) by alice via web")
	})
}

func TestMonitor_resolveKinds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		kind   jobs.GateKind
		action string
		want   jobs.Status
	}{
		{jobs.KindApproval, "approve", jobs.StatusInProgress},
		{jobs.KindApproval, "reject", jobs.StatusRejected},
		{jobs.KindPause, "resume", jobs.StatusInProgress},
		{jobs.KindTrap, "retry", jobs.StatusInProgress},
		{jobs.KindTrap, "skip", jobs.StatusInProgress},
		{jobs.KindTrap, "abort", jobs.StatusFailure},
		{jobs.KindAction, "fail", jobs.StatusFailure},
	} {
		t.Run(string(tc.kind)+" "+tc.action, func(t *testing.T) {
			f := newFixture(t)
			f.createJob("qa-1", "Deploy", nil)
			_, _, err := f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: tc.kind, Name: "Step", Assignees: []string{"alice"}})
			require.NoError(t, err)
			b := f.signIn("alice")
			_, page := b.get("/jobs/qa-1")
			require.Contains(t, page, `name="action" value="`+tc.action+`"`)
			resp, _ := b.act("/jobs/qa-1/resolve", url.Values{"action": {tc.action}, "gate": {"g1"}, "message": {"ok"}})
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			job := f.job("qa-1")
			require.Equal(t, tc.want, job.Status)
			require.Equal(t, jobs.ViaWeb, *job.Gate("g1").ResolvedVia)
		})
	}
	t.Run("approval quorum shows n of required", func(t *testing.T) {
		f := newFixture(t)
		f.createJob("qa-1", "Deploy", &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Go?", Assignees: []string{"ops"}, Required: 2})
		alice := f.signIn("alice")
		resp, _ := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"approve"}, "gate": {"g1"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		_, page := alice.get("/jobs/qa-1")
		require.Contains(t, page, "1 of 2 · alice")
		require.Contains(t, page, "You approved")
		resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"approve"}, "gate": {"g1"}})
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, body, "alice already approved")
	})
}

func TestMonitor_checklist(t *testing.T) {
	f := newFixture(t)
	cfg := actionGate()
	cfg.Checklist = []string{"Drain node", "Swap disk"}
	f.createJob("qa-1", "Deploy", cfg)
	alice := f.signIn("alice")
	resp, _ := alice.act("/jobs/qa-1/checklist", url.Values{"item": {"0"}, "checked": {"1"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	g := f.job("qa-1").Gate("g1")
	require.True(t, g.Checked(0))
	require.Equal(t, jobs.ViaWeb, g.Ticks[0].Via)
	_, page := alice.get("/jobs/qa-1")
	require.Contains(t, page, `aria-pressed="true"`)
	t.Run("complete refuses while items are open", func(t *testing.T) {
		resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"}, "evidence_message": {"x"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, body, "tick every checklist item first")
	})
	for name, item := range map[string]string{"out of range": "7", "not a number": "x"} {
		t.Run(name, func(t *testing.T) {
			resp, _ := alice.act("/jobs/qa-1/checklist", url.Values{"item": {item}, "checked": {"1"}})
			require.GreaterOrEqual(t, resp.StatusCode, 400)
			require.Len(t, f.job("qa-1").Gate("g1").Ticks, 1)
		})
	}
}

func TestMonitor_annotate(t *testing.T) {
	f := newFixture(t)
	f.createJob("qa-1", "Deploy", nil)
	alice := f.signIn("alice")
	t.Run("comment", func(t *testing.T) {
		resp, _ := alice.act("/jobs/qa-1/annotations", url.Values{"text": {"looks good"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		job := f.job("qa-1")
		require.Len(t, job.Annotations, 1)
		require.Equal(t, jobs.ViaWeb, job.Annotations[0].Via)
	})
	t.Run("empty comment is refused in place", func(t *testing.T) {
		resp, body := alice.act("/jobs/qa-1/annotations", url.Values{"text": {"  "}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, body, "a comment annotation needs text")
	})
	t.Run("file is downloadable, never inline", func(t *testing.T) {
		resp, _ := alice.upload(t, "/jobs/qa-1/annotations", "page.html", []byte("<script>alert(1)</script>"))
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		_, page := alice.get("/jobs/qa-1")
		require.Contains(t, page, "page.html</a>")
		entries, err := f.svc.Log(context.Background(), "qa-1", 0, 100)
		require.NoError(t, err)
		seq := entries[len(entries)-1].Seq
		dl, body := alice.get("/jobs/qa-1/files/" + itoa(seq))
		require.Equal(t, http.StatusOK, dl.StatusCode)
		require.Equal(t, "application/octet-stream", dl.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename=page.html`, dl.Header.Get("Content-Disposition"))
		require.Equal(t, "<script>alert(1)</script>", body)
		missing, _ := alice.get("/jobs/qa-1/files/1")
		require.Equal(t, http.StatusNotFound, missing.StatusCode)
	})
	t.Run("file over the cap is refused", func(t *testing.T) {
		resp, body := alice.upload(t, "/jobs/qa-1/annotations", "big.bin", bytes.Repeat([]byte("x"), 200<<10))
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		require.Contains(t, body, "larger than the limit")
		resp, body = alice.upload(t, "/jobs/qa-1/annotations", "big.bin", bytes.Repeat([]byte("x"), 65<<10))
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		require.Contains(t, body, "the limit is 65536")
		require.Len(t, f.job("qa-1").Annotations, 2)
	})
}

func (b *browser) upload(t *testing.T, path, name string, content []byte) (*http.Response, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(t, w.WriteField("csrf", b.csrf))
	fw, err := w.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = fw.Write(content)
	require.NoError(t, w.Close())
	req, _ := http.NewRequest(http.MethodPost, b.f.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

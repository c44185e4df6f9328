package monitor

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// Every signed-in page shows the deployment freezes in force; a value
// from the freeze is text, never markup.
func TestMonitor_FreezeBanner(t *testing.T) {
	f := newFixture(t)
	alice := f.signIn("alice")
	_, page := alice.get("/")
	require.NotContains(t, page, `class="freeze"`)

	until := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Minute)
	_, err := f.svc.CreateFreeze(context.Background(), jobs.Identity{Name: "root", Admin: true}, jobs.NewFreeze{
		Reason: "quarter end <script>alert(1)</script>", Until: &until, Environments: []string{"production"}, BlockCompletion: true})
	require.NoError(t, err)
	f.createJob("j-1", "Build", nil)
	for _, path := range []string{"/", "/jobs/j-1"} {
		resp, page := alice.get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		i := strings.Index(page, `class="freeze"`)
		require.Positive(t, i, path)
		banner := page[i:min(len(page), i+800)]
		require.Contains(t, banner, "Deployment freeze</strong> on production")
		require.Contains(t, banner, until.Format("2006-01-02 15:04 UTC"))
		require.Contains(t, banner, "quarter end &lt;script&gt;alert(1)&lt;/script&gt;")
		require.Contains(t, banner, "manual actions cannot be completed")
	}
}

// A completion refused by a freeze is a conflict shown on the job page,
// not an internal error.
func TestMonitor_ResolveDuringFreeze(t *testing.T) {
	f := newFixture(t)
	f.createJob("fz-1", "Deploy", actionGate())
	alice := f.signIn("alice")
	until := time.Now().Add(time.Hour)
	_, err := f.svc.CreateFreeze(context.Background(), jobs.Identity{Name: "root", Admin: true}, jobs.NewFreeze{
		Reason: "holiday", Until: &until, BlockCompletion: true})
	require.NoError(t, err)

	resp, body := alice.act("/jobs/fz-1/resolve", url.Values{"action": {"complete"}, "gate": {"g1"}, "evidence_message": {"done"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, body, "holiday")
	require.Equal(t, jobs.StatusActionRequired, f.job("fz-1").Status)
}

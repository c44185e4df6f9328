package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// pruneEverything forgets every dedupe key, as maintenance does once the
// retention window has passed, and returns how many it deleted.
func pruneEverything(t *testing.T, s jobs.Store) int {
	t.Helper()
	deleted := 0
	for {
		r, err := s.PruneKeys(context.Background(), time.Now().Add(time.Hour), 1000)
		require.NoError(t, err)
		deleted += r.Deleted
		if !r.More {
			return deleted
		}
	}
}

// TestServer_CallbackReplayAfterPruning: once its spent token is pruned, a
// replayed callback link still changes nothing: a link that resolved its
// gate meets a closed gate, and one that cast a vote meets its own vote.
// Both answer 409.
func TestServer_CallbackReplayAfterPruning(t *testing.T) {
	f := newFixture(t, func(c *web.Config) { c.Callbacks = fakeVerifier{} })
	f.actionJob("cbp1", jobs.GateConfig{Assignees: []string{"ops"}})
	f.gateJob("cbp2", jobs.GateConfig{Kind: jobs.KindApproval, Name: "ship", Required: 2})
	for _, tok := range []string{"good-cbp1-g1", "good-cbp2-g1"} {
		r := f.call("POST", "/v1/callbacks/"+tok, "", map[string]any{"status": "successful"})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	}
	require.GreaterOrEqual(t, pruneEverything(t, f.svc.Store()), 2, "both spent tokens were pruned")
	for _, tok := range []string{"good-cbp1-g1", "good-cbp2-g1"} {
		r := f.call("POST", "/v1/callbacks/"+tok, "", map[string]any{"status": "successful"})
		require.Equal(t, http.StatusConflict, r.status, "%s: %s", tok, r.body)
	}
	require.Len(t, f.job("cbp2").Gates[0].Approvals, 1, "the replay added no vote")
}

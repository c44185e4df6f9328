package monitor

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// racingStore is a real bbolt store whose next GetJob, once armed, returns
// what it read and only then lets a hook change the job: the monitor's
// page check sees the old gate open while the store moves on, exactly as
// when another door resolves the gate between the check and the write.
type racingStore struct {
	*store.DB
	mu   sync.Mutex
	hook func()
}

func (s *racingStore) arm(hook func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

func (s *racingStore) GetJob(ctx context.Context, id string) (*jobs.Job, error) {
	job, err := s.DB.GetJob(ctx, id)
	s.mu.Lock()
	hook := s.hook
	s.hook = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return job, err
}

// A click meant for approval g1 that arrives after g1 was approved by
// someone else and a second approval g2 opened must not approve g2, which
// the clicker never saw: the gate the form names is checked in the
// transaction that writes, not only on a snapshot read before it.
func TestMonitor_resolveNeverLandsOnANewerGate(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	rs := &racingStore{DB: db}
	f := newFixtureOn(t, rs, nil)

	staging := &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Staging", Assignees: []string{"ops"}}
	f.createJob("qa-1", "Release", nil)
	_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", *staging)
	require.NoError(t, err)
	alice := f.signIn("alice")

	rs.arm(func() { // bob approves g1 and the pipeline opens g2 meanwhile
		_, _, err := f.svc.Resolve(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
		require.NoError(t, err)
		_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1",
			jobs.GateConfig{Kind: jobs.KindApproval, Name: "Production", Assignees: []string{"ops"}})
		require.NoError(t, err)
	})
	resp, body := alice.act("/jobs/qa-1/resolve", url.Values{"action": {"approve"}, "gate": {"g1"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode, body)
	require.Contains(t, body, "already resolved (approved) by bob")

	job := f.job("qa-1")
	g2 := job.Gate("g2")
	require.NotNil(t, g2)
	require.Equal(t, jobs.GateOpen, g2.State, "the production approval stays open")
	require.Empty(t, g2.Approvals, "alice never saw g2 and must not have voted on it")
	require.Equal(t, jobs.StatusAwaitingApproval, job.Status)
}

// A checklist tick from a page showing gate g1 must not tick the same
// item of g2, opened since: g2's checklist is a condition of completing
// it, and the person never saw it. The page's form names its gate.
func TestMonitor_checklistTickNeverLandsOnANewerGate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createJob("qa-1", "Deploy", nil)
	first := jobs.GateConfig{Kind: jobs.KindAction, Name: "Drain", Assignees: []string{"ops"}, Checklist: []string{"Drain node"}}
	_, _, err := f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", first)
	require.NoError(t, err)
	alice := f.signIn("alice")
	_, page := alice.get("/jobs/qa-1")
	require.Regexp(t, `action="/jobs/qa-1/checklist">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="gate" value="g1">`, page)

	_, _, err = f.svc.ToggleChecklist(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", 0, true)
	require.NoError(t, err)
	_, _, err = f.svc.Resolve(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	second := jobs.GateConfig{Kind: jobs.KindAction, Name: "Wipe", Assignees: []string{"ops"}, Checklist: []string{"Wipe disk"}}
	_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", second)
	require.NoError(t, err)

	resp, body := alice.act("/jobs/qa-1/checklist", url.Values{"gate": {"g1"}, "item": {"0"}, "checked": {"0"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode, body)
	require.Contains(t, body, "already resolved (successful) by bob")
	resp, _ = alice.act("/jobs/qa-1/checklist", url.Values{"gate": {"g1"}, "item": {"0"}, "checked": {"1"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Empty(t, f.job("qa-1").Gate("g2").Ticks, "g2's checklist is untouched")
}

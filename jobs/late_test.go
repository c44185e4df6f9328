package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// appendFails is a real store whose AppendLog (used only by a late
// attempt here) fails.
type appendFails struct{ jobs.Store }

func (appendFails) AppendLog(context.Context, string, []jobs.LogEntry, uint64) ([]jobs.LogEntry, error) {
	return nil, errors.New("disk full")
}

// TestService_Resolve_LateAttemptNotRecorded: when the "also tried" line
// cannot be written, the late person still gets the conflict, and the
// failure is logged with its reason instead of vanishing.
func TestService_Resolve_LateAttemptNotRecorded(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var logged captureHandler
	svc := jobs.NewService(appendFails{db}, jobs.NewBroker(), jobs.Options{Logger: slog.New(&logged)})
	ctx := context.Background()
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "late-1", Name: "deploy",
		Gate: &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Go live", Assignees: []string{"ops"}}})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "late-1", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, bob, jobs.ViaSlack, "late-1", jobs.Resolution{Action: jobs.ActApprove})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "the late person is told the gate was resolved")
	require.Contains(t, logged.messages, "record late attempt")
}

// TestService_Resolve_LateAttemptsStopAtAFullLog: attempts on a closed gate
// are logged while the job's log has room (limits.jobLogEntries), and then
// no longer, so repeated clicks cannot grow it without bound; the late
// person is still told the gate was resolved, and nothing is logged as an
// error. The audit entries of the job's own changes are never refused.
func TestService_Resolve_LateAttemptsStopAtAFullLog(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var logged captureHandler
	ctx := context.Background()
	count := func() uint64 {
		n, err := db.LogCount(ctx, "late-2")
		require.NoError(t, err)
		return n
	}
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Logger: slog.New(&logged), Quotas: jobs.Quotas{JobLogEntries: 1}})
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "late-2", Name: "deploy",
		Gate: &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Go live", Assignees: []string{"ops"}}})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "late-2", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	full := count()
	require.Greater(t, full, uint64(1), "the job's own audit entries pass the limit")
	for range 3 {
		_, _, err = svc.Resolve(ctx, bob, jobs.ViaSlack, "late-2", jobs.Resolution{Action: jobs.ActApprove})
		require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "the late person is told the gate was resolved")
	}
	require.Equal(t, full, count(), "no late attempt was logged past the limit")
	require.NotContains(t, logged.messages, "record late attempt")
}

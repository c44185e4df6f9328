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

func (appendFails) AppendLog(context.Context, string, []jobs.LogEntry) ([]jobs.LogEntry, error) {
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

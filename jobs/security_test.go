package jobs_test

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestService_RequesterOnlyByAdmins: issue 17 item 14. A non-admin cannot
// name someone else as requester (and so dodge self-approval or gain their
// cancel right); the requester defaults to the caller.
func TestService_RequesterOnlyByAdmins(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	cases := []struct {
		name      string
		actor     jobs.Identity
		requester string
		want      string // error code; "" = created
		stored    string
	}{
		{"defaults to caller", carol, "", "", "carol"},
		{"own name", carol, "carol", "", "carol"},
		{"someone else", carol, "alice", jobs.EFORBIDDEN, ""},
		{"admin sets it", jobs.Identity{Name: "root", Admin: true}, "alice", "", "alice"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "req-" + string(rune('a'+i))
			j, err := svc.CreateJob(ctx, c.actor, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n", Requester: c.requester})
			if c.want != "" {
				require.Equal(t, c.want, jobs.ErrorCode(err))
				_, err = svc.GetJob(ctx, id)
				require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.stored, j.Requester)
		})
	}
}

// TestService_CancelNeedsStake: issue 17 item 14. Cancelling takes the
// requester, an assignee of the open gate or an admin.
func TestService_CancelNeedsStake(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	cases := []struct {
		name  string
		actor jobs.Identity
		gate  []string // assignees of an open gate; nil = no gate
		ok    bool
	}{
		{"stranger, no gate", carol, nil, false},
		{"stranger, assigned gate", carol, []string{"ops"}, false},
		{"stranger, unassigned gate", carol, []string{}, false},
		{"requester", ci, nil, true},
		{"assignee", alice, []string{"ops"}, true},
		{"admin", jobs.Identity{Name: "root", Admin: true}, nil, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "cancel-" + string(rune('a'+i))
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
			require.NoError(t, err)
			if c.gate != nil {
				_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Assignees: c.gate})
				require.NoError(t, err)
			}
			j, err := svc.Progress(ctx, c.actor, jobs.ViaAPI, id, jobs.StatusCancelled, "stop")
			if !c.ok {
				require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
				j, err = svc.GetJob(ctx, id)
				require.NoError(t, err)
				require.NotEqual(t, jobs.StatusCancelled, j.Status)
				return
			}
			require.NoError(t, err)
			require.Equal(t, jobs.StatusCancelled, j.Status)
		})
	}
}

// TestService_RunStateOnlyByRequester: issue 17 item 1 (server side). Only
// the run's own identity may write the run-state annotation.
func TestService_RunStateOnlyByRequester(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "run-1", Name: "deploy"})
	require.NoError(t, err)
	forged := jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: []byte(`{"format":1}`)}
	_, err = svc.Annotate(ctx, carol, jobs.ViaAPI, "run-1", forged)
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
	_, err = svc.Annotate(ctx, jobs.Identity{Name: "root", Admin: true}, jobs.ViaAPI, "run-1", forged)
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "not even an admin writes another identity's run state")
	j, err := svc.GetJob(ctx, "run-1")
	require.NoError(t, err)
	require.Empty(t, j.Annotations)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "run-1", forged)
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, carol, jobs.ViaAPI, "run-1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "notes.txt", Content: []byte("x")})
	require.NoError(t, err, "other file names stay open to everyone")
}

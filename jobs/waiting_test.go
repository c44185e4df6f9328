package jobs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func waitingIDs(t *testing.T, svc *jobs.Service, who jobs.Identity, limit int) []string {
	t.Helper()
	got, err := svc.WaitingOn(context.Background(), who, limit)
	require.NoError(t, err)
	ids := []string{}
	for _, j := range got {
		ids = append(ids, j.ID)
	}
	return ids
}

// TestService_WaitingOnMatchesLikeAssigned checks that the assignee index
// finds a gate by every form an assignee may take, and only for the
// identity that Gate.Assigned accepts.
func TestService_WaitingOnMatchesLikeAssigned(t *testing.T) {
	dana := jobs.Identity{Name: "dana", Email: "Dana@Example.com", Slack: "U0DANA", Groups: []string{"@db-team", "ops"}}
	for _, tc := range []struct {
		assignee string
		who      jobs.Identity
		want     bool
	}{
		{"dana", dana, true},
		{" @dana ", dana, true},
		{"dana@example.com", dana, true},
		{"DANA@EXAMPLE.COM", dana, true},
		{"U0DANA", dana, true},
		{"slack:U0DANA", dana, true},
		{"@U0DANA", dana, true},
		{"db-team", dana, true},
		{"@db-team", dana, true},
		{"ops", dana, true},
		{"Dana", dana, false}, // names are exact
		{"U0OTHER", dana, false},
		{"other@example.com", dana, false},
		{"db", dana, false},
		{"dana", jobs.Identity{Name: "slack:U0X", Slack: "U0X"}, false},
	} {
		t.Run(tc.assignee, func(t *testing.T) {
			svc := newService(t)
			job := createWithGate(t, svc, "w-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{tc.assignee}})
			require.Equal(t, tc.want, job.WaitsOn(tc.who), "the index must agree with Assigned")
			want := []string{}
			if tc.want {
				want = []string{"w-1"}
			}
			require.Equal(t, want, waitingIDs(t, svc, tc.who, 0))
		})
	}
}

// TestService_WaitingOnFollowsChanges checks that the index moves with
// the job in the same transaction: reassign, resolve, a new gate, an
// escalation tier reached, newest first and the limit.
func TestService_WaitingOnFollowsChanges(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	svc, _ := newServiceWith(t, jobs.Options{Now: clock.Now})
	step := func() { clock.Advance(time.Second) }

	createWithGate(t, svc, "w-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"ops", "alice"}})
	step()
	createWithGate(t, svc, "w-2", jobs.GateConfig{Kind: jobs.KindApproval, Name: "y", Assignees: []string{"carol"},
		Escalation: []jobs.Escalation{{After: "1h", Assignees: []string{"alice"}}}})
	step()
	createWithGate(t, svc, "w-3", jobs.GateConfig{Kind: jobs.KindPause, Name: "z", Assignees: []string{"alice"}})
	require.Equal(t, []string{"w-3", "w-1"}, waitingIDs(t, svc, alice, 0), "newest first, each once")
	require.Equal(t, []string{"w-3"}, waitingIDs(t, svc, alice, 1))
	require.Equal(t, []string{"w-1"}, waitingIDs(t, svc, bob, 0))

	_, _, err := svc.Reassign(ctx, alice, jobs.ViaAPI, "w-1", []string{"carol"})
	require.NoError(t, err)
	require.Equal(t, []string{"w-3"}, waitingIDs(t, svc, alice, 0), "reassigned away")
	require.Equal(t, []string{"w-2", "w-1"}, waitingIDs(t, svc, carol, 0))

	clock.Advance(2 * time.Hour)
	require.NoError(t, svc.FireTimers(ctx, "w-2"))
	require.Equal(t, []string{"w-3", "w-2"}, waitingIDs(t, svc, alice, 0), "the escalation tier adds alice")

	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "w-3", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	require.Equal(t, []string{"w-2"}, waitingIDs(t, svc, alice, 0), "a resolved gate waits on nobody")
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "w-3", jobs.GateConfig{Kind: jobs.KindAction, Name: "again", Assignees: []string{"bob"}})
	require.NoError(t, err)
	require.Equal(t, []string{"w-3"}, waitingIDs(t, svc, bob, 0), "the next gate indexes its own assignees")
	require.Equal(t, []string{"w-2"}, waitingIDs(t, svc, alice, 0))
	_, err = svc.Progress(ctx, ci, jobs.ViaAPI, "w-2", jobs.StatusCancelled, "")
	require.NoError(t, err)
	require.Equal(t, []string{}, waitingIDs(t, svc, alice, 0), "cancelled with its gate")
	require.Equal(t, []string{}, waitingIDs(t, svc, jobs.Identity{}, 0), "an empty identity waits on nothing")
}

func TestBroker_WatchOutboxIgnoresChangesThatNotifyNobody(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "o-1", Name: "x"})
	require.NoError(t, err)
	woke := svc.Broker().WatchOutbox()
	_, err = svc.AppendLog(ctx, "o-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "alice", Text: "hi"}})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "o-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "quiet"})
	require.NoError(t, err)
	select {
	case <-woke:
		t.Fatal("a log line and a gate with no channels woke the outbox")
	default:
	}
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "o-1", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "o-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "loud",
		Channels: []jobs.NotifyChannel{{Type: "email", To: "ops@example.com"}}})
	require.NoError(t, err)
	select {
	case <-woke:
	default:
		t.Fatal("a gate that notifies must wake the outbox")
	}
}

// TestService_WaitingOnLimitReadsPastFalsePositives checks that a limit
// still finds the newest gates that wait on the identity when newer gates
// share its index key without waiting on it ("Dana" is another name than
// "dana", under the same key).
func TestService_WaitingOnLimitReadsPastFalsePositives(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Now: clock})
	dana := jobs.Identity{Name: "dana"}
	for i := range 3 {
		createWithGate(t, svc, fmt.Sprintf("mine-%d", i), jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"dana"}})
	}
	for i := range 20 {
		createWithGate(t, svc, fmt.Sprintf("other-%d", i), jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"Dana"}})
	}
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{1, []string{"mine-2"}},
		{2, []string{"mine-2", "mine-1"}},
		{5, []string{"mine-2", "mine-1", "mine-0"}},
		{0, []string{"mine-2", "mine-1", "mine-0"}},
	} {
		require.Equal(t, tc.want, waitingIDs(t, svc, dana, tc.limit), "limit %d", tc.limit)
	}
	got, err := svc.WaitingOn(ctx, jobs.Identity{Name: "Dana"}, 4)
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, "other-19", got[0].ID)
}

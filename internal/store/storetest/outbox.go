package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// Note builds a notification on channel typ with the given target (none
// for ""), due at T0+due.
func Note(id, job, typ, target string, due time.Duration) jobs.Notification {
	ch := jobs.NotifyChannel{Type: jobs.ChannelType(typ)}
	switch typ {
	case "webhook":
		ch.URL = target
	case "email":
		ch.To = target
	default:
		ch.ChannelID = target
	}
	return jobs.Notification{ID: id, JobID: job, Channel: ch, DueAt: T0.Add(due)}
}

// Enqueue stores the notifications in order, each job created once.
func Enqueue(t *testing.T, db jobs.Store, ns []jobs.Notification) {
	t.Helper()
	ctx := context.Background()
	for _, n := range ns {
		if _, err := db.GetJob(ctx, n.JobID); err != nil {
			require.NoError(t, db.CreateJob(ctx, NewJob(n.JobID, T0, jobs.StatusPending), jobs.Effects{}))
		}
		_, _, err := db.UpdateJob(ctx, n.JobID, func(*jobs.Job) (jobs.Effects, error) {
			return jobs.Effects{Notify: []jobs.Notification{n}}, nil
		})
		require.NoError(t, err)
	}
}

// Due runs OutboxDue and returns lane → ids, Next and Pending.
func Due(t *testing.T, db jobs.Store, at time.Time, skip func(string) bool) (map[string][]string, time.Time, int) {
	t.Helper()
	work, err := db.OutboxDue(context.Background(), jobs.OutboxQuery{At: at, Skip: skip})
	require.NoError(t, err)
	got := map[string][]string{}
	for _, l := range work.Lanes {
		for _, n := range l.Items {
			require.Equal(t, l.Key, n.Lane())
			got[l.Key] = append(got[l.Key], n.ID)
		}
	}
	return got, work.Next, work.Pending
}

func testOutboxDue(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name    string
		pending []jobs.Notification
		busy    string
		want    map[string][]string // lane → ids due this pass
		next    time.Duration       // -1: zero
	}{
		{"independent lanes in order",
			[]jobs.Notification{Note("1", "j", "slack", "C1", 0), Note("2", "j", "email", "a@x", 0), Note("3", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00C1": {"1", "3"}, "email\x00a@x": {"2"}}, -1},
		{"a head not due holds its lane only",
			[]jobs.Notification{Note("1", "j", "slack", "C1", time.Minute), Note("2", "j", "slack", "C1", 0), Note("3", "j", "slack", "C2", 0)},
			"", map[string][]string{"slack\x00C2": {"3"}}, time.Minute},
		{"a lane stops at its first notification not due",
			[]jobs.Notification{Note("1", "j", "slack", "C1", 0), Note("2", "j", "slack", "C1", time.Minute), Note("3", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00C1": {"1"}}, -1},
		{"busy lane skipped",
			[]jobs.Notification{Note("1", "j", "slack", "C1", 0), Note("2", "j", "slack", "C2", 0)},
			"slack\x00C1", map[string][]string{"slack\x00C2": {"2"}}, -1},
		{"targetless waits behind the same job's older ones",
			[]jobs.Notification{Note("1", "j", "slack", "C1", time.Hour), Note("2", "j", "slack", "", 0), Note("3", "k", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:k": {"3"}}, time.Hour},
		{"targetless before the targeted goes first",
			[]jobs.Notification{Note("1", "j", "slack", "", 0), Note("2", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00job:j": {"1"}, "slack\x00C1": {"2"}}, -1},
		{"a later targetless waits inside its lane",
			[]jobs.Notification{Note("1", "j", "slack", "", 0), Note("2", "j", "slack", "C1", time.Hour), Note("3", "j", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:j": {"1"}}, time.Hour},
		{"another type does not block", []jobs.Notification{Note("1", "j", "email", "a@x", time.Hour), Note("2", "j", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:j": {"2"}}, time.Hour},
		{"nothing pending", nil, "", map[string][]string{}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newStore(t)
			Enqueue(t, db, tc.pending)
			got, next, pending := Due(t, db, T0, func(k string) bool { return k == tc.busy })
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.pending), pending)
			if tc.next < 0 {
				require.True(t, next.IsZero(), "next %v", next)
			} else {
				require.Equal(t, T0.Add(tc.next), next)
			}
		})
	}
}

func testOutboxHeadsMove(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	Enqueue(t, db, []jobs.Notification{Note("open", "j", "slack", "C1", 0), Note("open2", "j", "slack", "C1", 0),
		Note("resolved", "j", "slack", "", 0), Note("hook", "j", "webhook", "http://dead/", 0)})

	// The webhook head fails: its lane steps back until the retry.
	require.NoError(t, db.DeferNotification(ctx, "hook", T0.Add(time.Hour), "503"))
	got, next, _ := Due(t, db, T0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"open", "open2"}}, got, "resolved waits for both announcements")
	require.Equal(t, T0.Add(time.Hour), next)

	require.NoError(t, db.SettleNotification(ctx, "open"))
	got, _, _ = Due(t, db, T0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"open2"}}, got)

	require.NoError(t, db.SettleNotification(ctx, "open2"))
	got, _, _ = Due(t, db, T0, nil)
	require.Equal(t, map[string][]string{"slack\x00job:j": {"resolved"}}, got, "settling the last announcement frees it")
	all, _, err := db.Outbox(ctx, T0.Add(48*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, all, 2)

	got, next, _ = Due(t, db, T0.Add(time.Hour), nil)
	require.Equal(t, map[string][]string{"slack\x00job:j": {"resolved"}, "webhook\x00http://dead/": {"hook"}}, got)
	require.True(t, next.IsZero())

	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.SettleNotification(ctx, "open")), "settled twice")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeferNotification(ctx, "open", T0, "")))
	require.NoError(t, db.SettleNotification(ctx, "resolved"))
	require.NoError(t, db.SettleNotification(ctx, "hook"))
	got, next, _ = Due(t, db, T0.Add(48*time.Hour), nil)
	require.Empty(t, got)
	require.True(t, next.IsZero())
	all, _, err = db.Outbox(ctx, T0.Add(48*time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, all)
}

// testOutboxDueLimits checks that a pass takes at most MaxLanes lanes
// and PerLane notifications of each, the earliest due first.
func testOutboxDueLimits(t *testing.T, db jobs.Store) {
	var ns []jobs.Notification
	for i := range 5 {
		for k := range 3 {
			ns = append(ns, Note(fmt.Sprintf("%d-%d", i, k), "j", "webhook", fmt.Sprintf("http://h%d/", i), time.Duration(-i)*time.Minute))
		}
	}
	Enqueue(t, db, ns)
	work, err := db.OutboxDue(context.Background(), jobs.OutboxQuery{At: T0, MaxLanes: 2, PerLane: 2})
	require.NoError(t, err)
	require.Len(t, work.Lanes, 2)
	require.Equal(t, "webhook\x00http://h4/", work.Lanes[0].Key, "earliest due first")
	require.Equal(t, []string{"4-0", "4-1"}, []string{work.Lanes[0].Items[0].ID, work.Lanes[0].Items[1].ID})
	require.Len(t, work.Lanes[1].Items, 2)
	require.Equal(t, 15, work.Pending)
}

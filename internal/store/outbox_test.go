package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func note(id, job, typ, target string, due time.Duration) jobs.Notification {
	ch := jobs.NotifyChannel{Type: jobs.ChannelType(typ)}
	switch typ {
	case "webhook":
		ch.URL = target
	case "email":
		ch.To = target
	default:
		ch.ChannelID = target
	}
	return jobs.Notification{ID: id, JobID: job, Channel: ch, DueAt: t0.Add(due)}
}

// enqueueAll stores the notifications in order, each job created once.
func enqueueAll(t *testing.T, db *store.DB, ns []jobs.Notification) {
	t.Helper()
	ctx := context.Background()
	for _, n := range ns {
		if _, err := db.GetJob(ctx, n.JobID); err != nil {
			require.NoError(t, db.CreateJob(ctx, newJob(n.JobID, t0, jobs.StatusPending), jobs.Effects{}))
		}
		_, _, err := db.UpdateJob(ctx, n.JobID, func(*jobs.Job) (jobs.Effects, error) {
			return jobs.Effects{Notify: []jobs.Notification{n}}, nil
		})
		require.NoError(t, err)
	}
}

func due(t *testing.T, db *store.DB, at time.Time, skip func(string) bool) (map[string][]string, time.Time, int) {
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

func TestDB_OutboxDue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pending []jobs.Notification
		busy    string
		want    map[string][]string // lane → ids due this pass
		next    time.Duration       // -1: zero
	}{
		{"independent lanes in order",
			[]jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "email", "a@x", 0), note("3", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00C1": {"1", "3"}, "email\x00a@x": {"2"}}, -1},
		{"a head not due holds its lane only",
			[]jobs.Notification{note("1", "j", "slack", "C1", time.Minute), note("2", "j", "slack", "C1", 0), note("3", "j", "slack", "C2", 0)},
			"", map[string][]string{"slack\x00C2": {"3"}}, time.Minute},
		{"a lane stops at its first notification not due",
			[]jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "slack", "C1", time.Minute), note("3", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00C1": {"1"}}, -1},
		{"busy lane skipped",
			[]jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "slack", "C2", 0)},
			"slack\x00C1", map[string][]string{"slack\x00C2": {"2"}}, -1},
		{"targetless waits behind the same job's older ones",
			[]jobs.Notification{note("1", "j", "slack", "C1", time.Hour), note("2", "j", "slack", "", 0), note("3", "k", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:k": {"3"}}, time.Hour},
		{"targetless before the targeted goes first",
			[]jobs.Notification{note("1", "j", "slack", "", 0), note("2", "j", "slack", "C1", 0)},
			"", map[string][]string{"slack\x00job:j": {"1"}, "slack\x00C1": {"2"}}, -1},
		{"a later targetless waits inside its lane",
			[]jobs.Notification{note("1", "j", "slack", "", 0), note("2", "j", "slack", "C1", time.Hour), note("3", "j", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:j": {"1"}}, time.Hour},
		{"another type does not block", []jobs.Notification{note("1", "j", "email", "a@x", time.Hour), note("2", "j", "slack", "", 0)},
			"", map[string][]string{"slack\x00job:j": {"2"}}, time.Hour},
		{"nothing pending", nil, "", map[string][]string{}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			enqueueAll(t, db, tc.pending)
			got, next, pending := due(t, db, t0, func(k string) bool { return k == tc.busy })
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.pending), pending)
			if tc.next < 0 {
				require.True(t, next.IsZero(), "next %v", next)
			} else {
				require.Equal(t, t0.Add(tc.next), next)
			}
		})
	}
}

func TestDB_OutboxHeadsMove(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	enqueueAll(t, db, []jobs.Notification{note("open", "j", "slack", "C1", 0), note("open2", "j", "slack", "C1", 0),
		note("resolved", "j", "slack", "", 0), note("hook", "j", "webhook", "http://dead/", 0)})

	// The webhook head fails: its lane steps back until the retry.
	require.NoError(t, db.DeferNotification(ctx, "hook", t0.Add(time.Hour), "503"))
	got, next, _ := due(t, db, t0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"open", "open2"}}, got, "resolved waits for both announcements")
	require.Equal(t, t0.Add(time.Hour), next)

	require.NoError(t, db.SettleNotification(ctx, "open"))
	got, _, _ = due(t, db, t0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"open2"}}, got)

	require.NoError(t, db.SettleNotification(ctx, "open2"))
	got, _, pending := due(t, db, t0, nil)
	require.Equal(t, map[string][]string{"slack\x00job:j": {"resolved"}}, got, "settling the last announcement frees it")
	require.Equal(t, 2, pending)

	got, next, _ = due(t, db, t0.Add(time.Hour), nil)
	require.Equal(t, map[string][]string{"slack\x00job:j": {"resolved"}, "webhook\x00http://dead/": {"hook"}}, got)
	require.True(t, next.IsZero())

	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.SettleNotification(ctx, "open")), "settled twice")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeferNotification(ctx, "open", t0, "")))
	require.NoError(t, db.SettleNotification(ctx, "resolved"))
	require.NoError(t, db.SettleNotification(ctx, "hook"))
	got, next, pending = due(t, db, t0.Add(48*time.Hour), nil)
	require.Empty(t, got)
	require.True(t, next.IsZero())
	require.Zero(t, pending)
}

// TestDB_OutboxDueLimits checks that a pass takes at most MaxLanes lanes
// and PerLane notifications of each, the earliest due first.
func TestDB_OutboxDueLimits(t *testing.T) {
	db := open(t)
	var ns []jobs.Notification
	for i := range 5 {
		for k := range 3 {
			ns = append(ns, note(fmt.Sprintf("%d-%d", i, k), "j", "webhook", fmt.Sprintf("http://h%d/", i), time.Duration(-i)*time.Minute))
		}
	}
	enqueueAll(t, db, ns)
	work, err := db.OutboxDue(context.Background(), jobs.OutboxQuery{At: t0, MaxLanes: 2, PerLane: 2})
	require.NoError(t, err)
	require.Len(t, work.Lanes, 2)
	require.Equal(t, "webhook\x00http://h4/", work.Lanes[0].Key, "earliest due first")
	require.Equal(t, []string{"4-0", "4-1"}, []string{work.Lanes[0].Items[0].ID, work.Lanes[0].Items[1].ID})
	require.Len(t, work.Lanes[1].Items, 2)
	require.Equal(t, 15, work.Pending)
}

// TestOpen_RebuildsOutboxIndex checks that a file whose outbox indexes are
// missing (written before they existed) gets them at Open.
func TestOpen_RebuildsOutboxIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	enqueueAll(t, db, []jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "slack", "", 0), note("3", "k", "email", "a@x", time.Minute)})
	require.NoError(t, db.Close())
	require.NoError(t, store.DropIndexesForTest(path))

	db, err = store.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	got, next, pending := due(t, db, t0, nil)
	require.Equal(t, map[string][]string{"slack\x00C1": {"1"}}, got)
	require.Equal(t, t0.Add(time.Minute), next)
	require.Equal(t, 3, pending)
	require.NoError(t, db.Check())
}

// TestOpen_RebuildsWaitingIndex checks the same for the assignee index,
// and that the index holds open gates only.
func TestOpen_RebuildsWaitingIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	for _, id := range []string{"w-1", "w-2"} {
		_, err := svc.CreateJob(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: id, Name: id,
			Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"ops", "Dana@Example.com"}}})
		require.NoError(t, err)
	}
	_, _, err = svc.Resolve(ctx, jobs.Identity{Name: "ci", Groups: []string{"ops"}}, jobs.ViaAPI, "w-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, store.DropIndexesForTest(path))

	db, err = store.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Check())
	for _, keys := range [][]string{{"ops"}, {"dana@example.com"}, {"ops", "dana@example.com", "nobody"}} {
		got, err := db.WaitingOn(ctx, keys, 0)
		require.NoError(t, err)
		require.Len(t, got, 1, "keys %v", keys)
		require.Equal(t, "w-2", got[0].ID)
	}
	got, err := db.WaitingOn(ctx, []string{"nobody"}, 0)
	require.NoError(t, err)
	require.Empty(t, got)
}

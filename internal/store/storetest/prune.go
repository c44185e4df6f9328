package storetest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// clockStep waits (polling the clock, never sleeping) until the wall clock
// is a millisecond past where it was, and returns it: stamps taken before
// the call are older than the result, stamps taken after are newer.
func clockStep() time.Time {
	start := time.Now()
	for {
		if now := time.Now(); now.Sub(start) >= time.Millisecond {
			return now
		}
		runtime.Gosched()
	}
}

// PruneAll runs PruneKeys with batches of limit until the sweep is over
// and returns the keys deleted; a sweep that never ends fails the test.
func PruneAll(t testing.TB, db jobs.Store, before time.Time, limit int) int {
	t.Helper()
	deleted := 0
	for i := 0; ; i++ {
		require.Less(t, i, 10_000, "the prune sweep never ended")
		r, err := db.PruneKeys(context.Background(), before, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, r.Deleted, limit, "one call deletes at most limit keys")
		deleted += r.Deleted
		if !r.More {
			return deleted
		}
	}
}

// testPruneKeys: every kind of dedupe key recorded before the cut-off is
// gone after a sweep and one recorded after stays; a pending notification's
// id is never pruned. A replay after pruning is treated as new (README,
// "Database growth"): the event is handled again, the log line appended
// again, the notification enqueued again.
func testPruneKeys(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("qa-prune", T0, jobs.StatusPending), jobs.Effects{}))
	spend := func(token string) error {
		_, _, err := db.UpdateJob(ctx, "qa-prune", func(j *jobs.Job) (jobs.Effects, error) {
			j.Version++
			return jobs.Effects{Once: []string{token}}, nil
		})
		return err
	}
	record := func(age string) {
		fresh, err := db.Once(ctx, "slack-event:"+age)
		require.NoError(t, err)
		require.True(t, fresh)
		require.NoError(t, spend("callback:"+age))
		added, err := db.AppendLog(ctx, "qa-prune", []jobs.LogEntry{{Kind: jobs.LogAudit, Text: age, Key: "line-" + age}}, 0)
		require.NoError(t, err)
		require.Len(t, added, 1)
		Enqueue(t, db, []jobs.Notification{Note("n-"+age, "qa-prune", "webhook", "http://h/"+age, 0),
			Note("n-pending-"+age, "qa-prune", "email", age+"@example.com", 0)})
		require.NoError(t, db.SettleNotification(ctx, "n-"+age))
	}
	record("old")
	cut := clockStep()
	clockStep()
	record("new")

	_, err := db.PruneKeys(ctx, cut, 0)
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "a limit of 0 is refused")
	require.Equal(t, 4, PruneAll(t, db, cut, 2),
		"the old event id, callback token, log key and settled notification id go; nothing else")
	require.Zero(t, PruneAll(t, db, cut, 2), "a second sweep finds nothing more")

	for _, c := range []struct {
		age   string
		fresh bool
	}{{"old", true}, {"new", false}} {
		fresh, err := db.Once(ctx, "slack-event:"+c.age)
		require.NoError(t, err)
		require.Equal(t, c.fresh, fresh, "event id %s", c.age)
		err = spend("callback:" + c.age)
		if c.fresh {
			require.NoError(t, err, "a pruned token can be spent again")
		} else {
			require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "a kept token stays spent")
		}
		added, err := db.AppendLog(ctx, "qa-prune", []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "again", Key: "line-" + c.age}}, 0)
		require.NoError(t, err)
		require.Len(t, added, map[bool]int{true: 1, false: 0}[c.fresh], "log key %s", c.age)
		Enqueue(t, db, []jobs.Notification{Note("n-"+c.age, "qa-prune", "webhook", "http://h/"+c.age, 0),
			Note("n-pending-"+c.age, "qa-prune", "email", c.age+"@example.com", 0)})
	}
	pending, _, err := db.Outbox(ctx, T0.Add(time.Hour), 100)
	require.NoError(t, err)
	var ids []string
	for _, n := range pending {
		ids = append(ids, n.ID)
	}
	require.ElementsMatch(t, []string{"n-pending-old", "n-pending-new", "n-old"}, ids,
		"pending ids were kept (no duplicate), the pruned settled id enqueued again, the kept one not")
}

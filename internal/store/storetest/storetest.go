// Package storetest is the jobs.Store contract: one suite of behaviour
// tests that every store (bbolt, PostgreSQL) must pass. A store's own test
// calls Run with a constructor returning a fresh, empty store.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// NewStore returns a fresh, empty store, closed when the test ends.
type NewStore func(t testing.TB) jobs.Store

// T0 is the suite's reference time.
var T0 = time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)

// NewJob returns a minimal job record.
func NewJob(id string, created time.Time, status jobs.Status) *jobs.Job {
	return &jobs.Job{ID: id, Name: "deploy " + id, Status: status, Version: 1, CreatedAt: created, UpdatedAt: created}
}

// Run runs every contract test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, jobs.Store)
	}{
		{"CreateGetUpdate", testCreateGetUpdate},
		{"CreateConflictWritesNothing", testCreateConflictWritesNothing},
		{"ListJobs", testListJobs},
		{"StatusIndexMoves", testStatusIndexMoves},
		{"AppendLogDedupe", testAppendLogDedupe},
		{"ConcurrentAppendsKeepOrder", testConcurrentAppendsKeepOrder},
		{"AppendLogLimit", testAppendLogLimit},
		{"ConcurrentAppendsStopAtLimit", testConcurrentAppendsStopAtLimit},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdatesLoseNothing},
		{"TimersAndChannels", testTimersAndChannels},
		{"DueJobsFarFuture", testDueJobsFarFuture},
		{"DueJobsOrderAndLimit", testDueJobsOrderAndLimit},
		{"ChannelServesOneJob", testChannelServesOneJob},
		{"JobByMessage", testJobByMessage},
		{"ConcurrentBindsOneWinner", testConcurrentBindsOneWinner},
		{"Outbox", testOutbox},
		{"OutboxOrderAndLimit", testOutboxOrderAndLimit},
		{"Once", testOnce},
		{"OnceSpentWithChange", testOnceSpentWithChange},
		{"RefusedChangeSpendsNoKey", testRefusedChangeSpendsNoKey},
		{"Freezes", testFreezes},
		{"OutboxHeadsMove", testOutboxHeadsMove},
		{"OutboxDueLimits", testOutboxDueLimits},
		{"WaitingOn", testWaitingOn},
		{"Confirmations", testConfirmations},
		{"ConfirmationConcurrentSettle", testConfirmationConcurrentSettle},
		{"Homes", testHomes},
		{"PruneKeys", testPruneKeys},
		{"Sessions", testSessions},
		{"AnnotationsApart", testAnnotationsApart},
		{"LogCount", testLogCount},
		{"SessionsPrune", testSessionsPrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
	t.Run("OutboxDue", func(t *testing.T) { testOutboxDue(t, newStore) })
}

func testCreateGetUpdate(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	job := NewJob("qa-1", T0, jobs.StatusPending)
	job.Context = map[string]any{"env": "prod", "n": 3.0, "nested": map[string]any{"a": "b"}}
	require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "created"}}}))

	err := db.CreateJob(ctx, job, jobs.Effects{})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "second create must conflict")

	got, err := db.GetJob(ctx, "qa-1")
	require.NoError(t, err)
	require.Equal(t, job.Context, got.Context, "the record round-trips")
	require.True(t, got.CreatedAt.Equal(T0))

	_, err = db.GetJob(ctx, "nope")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	called := false
	_, _, err = db.UpdateJob(ctx, "nope", func(*jobs.Job) (jobs.Effects, error) { called = true; return jobs.Effects{}, nil })
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "updating an unknown job")
	require.False(t, called, "the change never sees a job that does not exist")

	got, entries, err := db.UpdateJob(ctx, "qa-1", func(j *jobs.Job) (jobs.Effects, error) {
		j.Status = jobs.StatusInProgress
		j.Version++
		return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "started"}}}, nil
	})
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
	require.Equal(t, uint64(2), entries[0].Seq, "store assigns the next sequence")

	_, _, err = db.UpdateJob(ctx, "qa-1", func(j *jobs.Job) (jobs.Effects, error) {
		j.Status = jobs.StatusFailure
		return jobs.Effects{Log: []jobs.LogEntry{{Text: "never"}}, Notify: []jobs.Notification{{ID: "never", JobID: "qa-1", DueAt: T0}}},
			jobs.Errorf(jobs.ECONFLICT, "refused")
	})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	after, err := db.GetJob(ctx, "qa-1")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusInProgress, after.Status, "a refused change writes nothing")
	log, err := db.Log(ctx, "qa-1", 0, 100)
	require.NoError(t, err)
	require.Len(t, log, 2)
	due, _, err := db.Outbox(ctx, T0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, due, "a refused change enqueues nothing")
}

func testCreateConflictWritesNothing(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	err := db.CreateJob(ctx, NewJob("a", T0, jobs.StatusInProgress), jobs.Effects{
		Log:    []jobs.LogEntry{{Text: "dup"}},
		Notify: []jobs.Notification{{ID: "a/dup", JobID: "a", DueAt: T0}},
	})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	got, err := db.GetJob(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusPending, got.Status, "the first record stays")
	log, err := db.Log(ctx, "a", 0, 10)
	require.NoError(t, err)
	require.Empty(t, log)
	due, _, err := db.Outbox(ctx, T0, 10)
	require.NoError(t, err)
	require.Empty(t, due)
}

func testListJobs(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		status := jobs.StatusPending
		if i%2 == 0 {
			status = jobs.StatusInProgress
		}
		require.NoError(t, db.CreateJob(ctx, NewJob(fmt.Sprintf("j-%02d", i), T0.Add(time.Duration(i)*time.Minute), status), jobs.Effects{}))
	}
	tests := []struct {
		name   string
		status jobs.Status
		want   int
		first  string
	}{
		{"all", "", 25, "j-24"},
		{"in progress", jobs.StatusInProgress, 13, "j-24"},
		{"pending", jobs.StatusPending, 12, "j-23"},
		{"none", jobs.StatusRejected, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			cursor := ""
			for {
				page, err := db.ListJobs(ctx, jobs.ListQuery{Status: tt.status, Limit: 4, Cursor: cursor})
				require.NoError(t, err)
				require.LessOrEqual(t, len(page.Jobs), 4)
				for _, j := range page.Jobs {
					ids = append(ids, j.ID)
				}
				if page.Next == "" {
					break
				}
				cursor = page.Next
			}
			require.Len(t, ids, tt.want)
			if tt.want > 0 {
				require.Equal(t, tt.first, ids[0], "newest first")
			}
			for i := 1; i < len(ids); i++ {
				require.Greater(t, ids[i-1], ids[i], "strictly newest first, no repeats")
			}
		})
	}
	t.Run("same created time orders by id", func(t *testing.T) {
		for _, id := range []string{"s-b", "s-a", "s-c"} {
			require.NoError(t, db.CreateJob(ctx, NewJob(id, T0.Add(time.Hour), jobs.StatusRejected), jobs.Effects{}))
		}
		page, err := db.ListJobs(ctx, jobs.ListQuery{Status: jobs.StatusRejected, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{"s-c", "s-b"}, []string{page.Jobs[0].ID, page.Jobs[1].ID})
		page, err = db.ListJobs(ctx, jobs.ListQuery{Status: jobs.StatusRejected, Limit: 2, Cursor: page.Next})
		require.NoError(t, err)
		require.Len(t, page.Jobs, 1)
		require.Equal(t, "s-a", page.Jobs[0].ID)
		require.Empty(t, page.Next)
	})
	for _, bad := range []string{"!!", "AAAA"} {
		_, err := db.ListJobs(ctx, jobs.ListQuery{Cursor: bad, Limit: 1})
		require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "cursor %q", bad)
	}
}

func testStatusIndexMoves(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	_, _, err := db.UpdateJob(ctx, "a", func(j *jobs.Job) (jobs.Effects, error) {
		j.Status = jobs.StatusSuccessful
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	pending, err := db.ListJobs(ctx, jobs.ListQuery{Status: jobs.StatusPending, Limit: 10})
	require.NoError(t, err)
	done, err := db.ListJobs(ctx, jobs.ListQuery{Status: jobs.StatusSuccessful, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, pending.Jobs)
	require.Len(t, done.Jobs, 1)
}

func testAppendLogDedupe(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	added, err := db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: "x", Key: "k1"}, {Text: "y", Key: "k2"}, {Text: "x twice", Key: "k1"}}, 0)
	require.NoError(t, err)
	require.Len(t, added, 2, "a key repeated within one call is kept once")
	added, err = db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: "x again", Key: "k1"}, {Text: "z"}}, 0)
	require.NoError(t, err)
	require.Len(t, added, 1)
	require.Equal(t, "z", added[0].Text)
	added, err = db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: "dup only", Key: "k2"}}, 0)
	require.NoError(t, err)
	require.Empty(t, added)
	_, err = db.AppendLog(ctx, "nope", []jobs.LogEntry{{Text: "x"}}, 0)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	log, err := db.Log(ctx, "a", 1, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{2, 3}, []uint64{log[0].Seq, log[1].Seq})
	log, err = db.Log(ctx, "a", 0, 2)
	require.NoError(t, err)
	require.Len(t, log, 2, "limit")
	log, err = db.Log(ctx, "nope", 0, 10)
	require.NoError(t, err)
	require.Empty(t, log, "an unknown job has an empty log")

	// Keys are per job: the same key on another job is new there.
	require.NoError(t, db.CreateJob(ctx, NewJob("b", T0, jobs.StatusPending), jobs.Effects{}))
	added, err = db.AppendLog(ctx, "b", []jobs.LogEntry{{Text: "x", Key: "k1"}}, 0)
	require.NoError(t, err)
	require.Len(t, added, 1)
	require.Equal(t, uint64(1), added[0].Seq, "each job has its own sequence")
}

// An append that would take a log past its limit is refused whole and
// writes nothing, its keys included; entries whose key was seen take no
// room, so a redelivery at a full log is answered as before; 0 is no limit.
func testAppendLogLimit(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	line := func(text, key string) jobs.LogEntry {
		return jobs.LogEntry{Kind: jobs.LogMessage, Text: text, Key: key}
	}
	count := func() uint64 {
		n, err := db.LogCount(ctx, "a")
		require.NoError(t, err)
		return n
	}
	added, err := db.AppendLog(ctx, "a", []jobs.LogEntry{line("1", "k1"), line("2", "")}, 3)
	require.NoError(t, err)
	require.Len(t, added, 2)

	_, err = db.AppendLog(ctx, "a", []jobs.LogEntry{line("3", ""), line("4", "k4")}, 3)
	require.Equal(t, jobs.EQUOTA, jobs.ErrorCode(err))
	require.Equal(t, "job a has 2 log entries; 2 more would pass the most limits.jobLogEntries allows (3)", jobs.ErrorMessage(err))
	require.EqualValues(t, 2, count(), "a refused append writes nothing")

	added, err = db.AppendLog(ctx, "a", []jobs.LogEntry{line("4", "k4"), line("1 again", "k1"), line("4 twice", "k4")}, 3)
	require.NoError(t, err, "the refused key was not spent, and seen keys take no room")
	require.Len(t, added, 1)
	require.Equal(t, "4", added[0].Text)

	added, err = db.AppendLog(ctx, "a", []jobs.LogEntry{line("1 again", "k1")}, 3)
	require.NoError(t, err, "a redelivery at a full log is not refused")
	require.Empty(t, added)
	_, err = db.AppendLog(ctx, "a", []jobs.LogEntry{line("5", "")}, 3)
	require.Equal(t, jobs.EQUOTA, jobs.ErrorCode(err))
	require.EqualValues(t, 3, count())

	_, err = db.AppendLog(ctx, "a", []jobs.LogEntry{line("5", "")}, 0)
	require.NoError(t, err, "0 is no limit")
	require.EqualValues(t, 4, count())
}

// Concurrent appends cannot pass a limit together: it is checked in the
// append's own transaction.
func testConcurrentAppendsStopAtLimit(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	const writers, each, limit = 8, 10, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := db.AppendLog(ctx, "a", []jobs.LogEntry{{Kind: jobs.LogMessage, Text: fmt.Sprintf("w%d-%d", w, i)}}, limit)
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	refused := 0
	for err := range errs {
		if err != nil {
			require.Equal(t, jobs.EQUOTA, jobs.ErrorCode(err), "%v", err)
			refused++
		}
	}
	n, err := db.LogCount(ctx, "a")
	require.NoError(t, err)
	require.EqualValues(t, limit, n, "the log stops exactly at its limit")
	require.Equal(t, writers*each-limit, refused)
}

func testConcurrentAppendsKeepOrder(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	var wg sync.WaitGroup
	errs := make(chan error, 8*50) // only the test goroutine may call require
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: fmt.Sprintf("w%d-%d", w, i)}}, 0); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	log, err := db.Log(ctx, "a", 0, 1000)
	require.NoError(t, err)
	require.Len(t, log, 400)
	next := make([]int, 8) // each writer's lines appear in the order it wrote them
	for i, e := range log {
		require.Equal(t, uint64(i+1), e.Seq)
		var w, n int
		_, err := fmt.Sscanf(e.Text, "w%d-%d", &w, &n)
		require.NoError(t, err)
		require.Equal(t, next[w], n, "writer %d's entries out of order at seq %d", w, e.Seq)
		next[w]++
	}
}

// testConcurrentUpdatesLoseNothing: read-modify-write changes of one job
// from many goroutines never overwrite each other.
func testConcurrentUpdatesLoseNothing(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{}))
	const writers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, _, err := db.UpdateJob(ctx, "a", func(j *jobs.Job) (jobs.Effects, error) {
					j.Version++
					return jobs.Effects{Log: []jobs.LogEntry{{Text: fmt.Sprint(j.Version)}}}, nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := db.GetJob(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, uint64(1+writers*each), got.Version)
	log, err := db.Log(ctx, "a", 0, 1000)
	require.NoError(t, err)
	require.Len(t, log, writers*each)
	for i, e := range log {
		require.Equal(t, fmt.Sprint(i+2), e.Text, "changes apply in commit order")
	}
}

func testTimersAndChannels(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	deadline := T0.Add(time.Hour)
	job := NewJob("a", T0, jobs.StatusActionRequired)
	job.Gates = []*jobs.Gate{{ID: "g1", State: jobs.GateOpen, OpenedAt: T0, Deadline: &deadline}}
	job.Channels = []jobs.Channel{{ID: "C1", Name: "job-a"}}
	require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	require.NoError(t, db.CreateJob(ctx, NewJob("b", T0, jobs.StatusPending), jobs.Effects{}))

	ids, next, err := db.DueJobs(ctx, T0, 10)
	require.NoError(t, err)
	require.Empty(t, ids)
	require.True(t, next.Equal(deadline))
	ids, _, err = db.DueJobs(ctx, deadline, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, ids)

	_, _, err = db.UpdateJob(ctx, "a", func(j *jobs.Job) (jobs.Effects, error) {
		j.Gates[0].State = jobs.GateClosed
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	ids, next, err = db.DueJobs(ctx, deadline.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, ids, "a closed gate leaves the timer index")
	require.True(t, next.IsZero())

	id, err := db.JobByChannel(ctx, "C1")
	require.NoError(t, err)
	require.Equal(t, "a", id)
	_, err = db.JobByChannel(ctx, "C2")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
}

// testDueJobsFarFuture: a wake time past what UnixNano can hold (after
// 2262) must sort last and never look due, else the timer loop fires the
// job forever (and spins once a batch of them fills its read).
func testDueJobsFarFuture(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	for _, c := range []struct {
		id       string
		deadline time.Time
	}{
		{"qa-far", T0.Add(290 * 365 * 24 * time.Hour)},
		{"qa-near", T0.Add(time.Hour)},
	} {
		job := NewJob(c.id, T0, jobs.StatusActionRequired)
		d := c.deadline
		job.Gates = []*jobs.Gate{{ID: "g1", GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "x"}, State: jobs.GateOpen, OpenedAt: T0, Deadline: &d}}
		require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	}
	t.Run("nothing due now", func(t *testing.T) {
		ids, next, err := db.DueJobs(ctx, T0, 10)
		require.NoError(t, err)
		require.Empty(t, ids)
		require.Equal(t, T0.Add(time.Hour), next.UTC())
	})
	t.Run("near one due, far one not", func(t *testing.T) {
		ids, next, err := db.DueJobs(ctx, T0.Add(2*time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"qa-near"}, ids)
		require.True(t, next.After(T0.Add(100*365*24*time.Hour)), "far job wakes far away, got %v", next)
	})
	t.Run("moving the far deadline removes its entry", func(t *testing.T) {
		_, _, err := db.UpdateJob(ctx, "qa-far", func(j *jobs.Job) (jobs.Effects, error) {
			d := T0.Add(3 * time.Hour)
			j.Gates[0].Deadline = &d
			j.Version++
			return jobs.Effects{}, nil
		})
		require.NoError(t, err)
		ids, next, err := db.DueJobs(ctx, T0.Add(4*time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"qa-near", "qa-far"}, ids)
		require.True(t, next.IsZero(), "no stale entry left, got %v", next)
	})
}

func testDueJobsOrderAndLimit(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	for i, id := range []string{"d-3", "d-1", "d-2", "d-4"} {
		job := NewJob(id, T0, jobs.StatusActionRequired)
		d := T0.Add(time.Duration([]int{3, 1, 2, 4}[i]) * time.Minute)
		job.Gates = []*jobs.Gate{{ID: "g1", State: jobs.GateOpen, OpenedAt: T0, Deadline: &d}}
		require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	}
	ids, next, err := db.DueJobs(ctx, T0.Add(10*time.Minute), 2)
	require.NoError(t, err)
	require.Equal(t, []string{"d-1", "d-2"}, ids, "earliest first, up to the limit")
	require.True(t, next.Equal(T0.Add(3*time.Minute)), "next is the first one left out, got %v", next)
	ids, next, err = db.DueJobs(ctx, T0.Add(150*time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"d-1", "d-2"}, ids)
	require.True(t, next.Equal(T0.Add(3*time.Minute)))
}

// testChannelServesOneJob: the store refuses, inside the transaction, a
// channel already bound to another job, so two concurrent binds (both
// past jobs.Service's read-only pre-check) cannot both win.
func testChannelServesOneJob(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	bind := func(id string) error {
		_, _, err := db.UpdateJob(ctx, id, func(j *jobs.Job) (jobs.Effects, error) {
			j.Channels = append(j.Channels, jobs.Channel{ID: "C1", Name: "job-x"})
			j.Version++
			return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "bound"}}}, nil
		})
		return err
	}
	for _, id := range []string{"qa-a", "qa-b"} {
		require.NoError(t, db.CreateJob(ctx, NewJob(id, T0, jobs.StatusInProgress), jobs.Effects{}))
	}
	require.NoError(t, bind("qa-a"))
	require.NoError(t, bind("qa-a"), "binding again to the same job is no conflict")
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(bind("qa-b")))
	owner, err := db.JobByChannel(ctx, "C1")
	require.NoError(t, err)
	require.Equal(t, "qa-a", owner)
	b, err := db.GetJob(ctx, "qa-b")
	require.NoError(t, err)
	require.Empty(t, b.Channels, "the refused bind wrote nothing")
	require.Equal(t, uint64(1), b.Version)
	log, err := db.Log(ctx, "qa-b", 0, 10)
	require.NoError(t, err)
	require.Empty(t, log)

	created := NewJob("qa-c", T0, jobs.StatusInProgress)
	created.Channels = []jobs.Channel{{ID: "C1", Name: "job-x"}}
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(db.CreateJob(ctx, created, jobs.Effects{})), "a new job cannot take a bound channel")
	_, err = db.GetJob(ctx, "qa-c")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "the refused create wrote nothing")
}

func testConcurrentBindsOneWinner(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	const n = 6
	for i := 0; i < n; i++ {
		require.NoError(t, db.CreateJob(ctx, NewJob(fmt.Sprintf("b-%d", i), T0, jobs.StatusInProgress), jobs.Effects{}))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = db.UpdateJob(ctx, fmt.Sprintf("b-%d", i), func(j *jobs.Job) (jobs.Effects, error) {
				j.Channels = append(j.Channels, jobs.Channel{ID: "CX", Name: "shared"})
				return jobs.Effects{}, nil
			})
		}()
	}
	wg.Wait()
	winners := 0
	for _, err := range errs {
		if err == nil {
			winners++
			continue
		}
		require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "%v", err)
	}
	require.Equal(t, 1, winners)
	owner, err := db.JobByChannel(ctx, "CX")
	require.NoError(t, err)
	j, err := db.GetJob(ctx, owner)
	require.NoError(t, err)
	require.True(t, j.HasChannel("CX"), "the index and the record agree")
}

func testOutbox(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	n1 := jobs.Notification{ID: "a/g1/open/slack:C1", JobID: "a", DueAt: T0}
	n2 := jobs.Notification{ID: "a/g1/open/email:x", JobID: "a", DueAt: T0.Add(time.Minute)}
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{Notify: []jobs.Notification{n1, n2, n1}}))

	due, next, err := db.Outbox(ctx, T0, 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "duplicate ids are enqueued once; n2 not due yet")
	require.True(t, next.Equal(n2.DueAt))

	require.NoError(t, db.DeferNotification(ctx, n1.ID, T0.Add(time.Hour), "boom"))
	due, _, err = db.Outbox(ctx, T0.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{n2.ID}, []string{due[0].ID})
	require.NoError(t, db.SettleNotification(ctx, n2.ID))
	due, _, _ = db.Outbox(ctx, T0.Add(2*time.Hour), 10)
	require.Len(t, due, 1)
	require.Equal(t, 1, due[0].Attempts)
	require.Equal(t, "boom", due[0].LastError)

	// A settled id is never enqueued again for the same cause.
	_, _, err = db.UpdateJob(ctx, "a", func(j *jobs.Job) (jobs.Effects, error) {
		return jobs.Effects{Notify: []jobs.Notification{n2}}, nil
	})
	require.NoError(t, err)
	due, _, _ = db.Outbox(ctx, T0.Add(2*time.Hour), 10)
	require.Len(t, due, 1)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeferNotification(ctx, "nope", T0, "")))
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeferNotification(ctx, n2.ID, T0, "")), "a settled notification is not pending")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.SettleNotification(ctx, "nope")))
}

func testOutboxOrderAndLimit(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	var ns []jobs.Notification
	for i := 0; i < 5; i++ {
		// Enqueued in this order; due times deliberately not monotonic.
		ns = append(ns, jobs.Notification{ID: fmt.Sprintf("a/%d", i), JobID: "a", Event: jobs.NotifyReminder, DueAt: T0.Add(time.Duration(5-i) * time.Second)})
	}
	require.NoError(t, db.CreateJob(ctx, NewJob("a", T0, jobs.StatusPending), jobs.Effects{Notify: ns[:3]}))
	_, _, err := db.UpdateJob(ctx, "a", func(*jobs.Job) (jobs.Effects, error) { return jobs.Effects{Notify: ns[3:]}, nil })
	require.NoError(t, err)

	due, next, err := db.Outbox(ctx, T0.Add(time.Minute), 3)
	require.NoError(t, err)
	require.Equal(t, []string{"a/0", "a/1", "a/2"}, idsOf(due), "oldest enqueued first")
	require.Equal(t, jobs.NotifyReminder, due[0].Event, "fields round-trip")
	require.True(t, next.Equal(T0.Add(time.Second)), "next is the earliest of the rest, got %v", next)
	due, next, err = db.Outbox(ctx, T0.Add(3*time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a/2", "a/3", "a/4"}, idsOf(due), "only the due ones")
	require.True(t, next.Equal(T0.Add(4*time.Second)), "got %v", next)
}

func idsOf(ns []jobs.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func testOnce(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	first, err := db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.True(t, first)
	first, err = db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.False(t, first)

	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, errs := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := db.Once(ctx, "slack-event:Ev2")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
			}
			if ok {
				wins++
			}
		}()
	}
	wg.Wait()
	require.Zero(t, errs)
	require.Equal(t, 1, wins, "exactly one concurrent caller sees a key first")
}

// testJobByMessage: a gate announcement's (channel, ts) finds its job,
// whatever job the channel is bound to.
func testJobByMessage(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("qa-m", T0, jobs.StatusInProgress), jobs.Effects{}))
	_, err := db.JobByMessage(ctx, "C9", "1700000000.000100")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	for i := 0; i < 2; i++ { // a second update with the same refs keeps the index
		_, _, err = db.UpdateJob(ctx, "qa-m", func(j *jobs.Job) (jobs.Effects, error) {
			if len(j.Gates) == 0 {
				j.Gates = append(j.Gates, &jobs.Gate{ID: "g1", State: jobs.GateOpen,
					Messages: []jobs.MessageRef{{Channel: "C9", TS: "1700000000.000100"}}})
			}
			j.Version++
			return jobs.Effects{}, nil
		})
		require.NoError(t, err)
	}
	id, err := db.JobByMessage(ctx, "C9", "1700000000.000100")
	require.NoError(t, err)
	require.Equal(t, "qa-m", id)
	_, err = db.JobByMessage(ctx, "C8", "1700000000.000100")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "the channel is part of the key")
}

// testOnceSpentWithChange: a single-use key in a change's effects is spent
// with the change; a refused change leaves it unspent, and a change whose
// key was spent before writes nothing.
func testOnceSpentWithChange(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("qa-once", T0, jobs.StatusPending), jobs.Effects{}))
	change := func(refuse bool) error {
		_, _, err := db.UpdateJob(ctx, "qa-once", func(j *jobs.Job) (jobs.Effects, error) {
			j.Version++
			fx := jobs.Effects{Once: []string{"callback:tok"}, Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "used"}}}
			if refuse {
				return fx, jobs.Errorf(jobs.EINVALID, "evidence missing")
			}
			return fx, nil
		})
		return err
	}
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(change(true)))
	require.NoError(t, change(false), "a refused change left the key unspent")
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(change(false)), "the key is spent")
	got, err := db.GetJob(ctx, "qa-once")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version, "only the one change was written")
	log, err := db.Log(ctx, "qa-once", 0, 10)
	require.NoError(t, err)
	require.Len(t, log, 1)
	fresh, err := db.Once(ctx, "callback:tok")
	require.NoError(t, err)
	require.False(t, fresh)
}

// testRefusedChangeSpendsNoKey: a change the store refuses (one of its
// keys spent before, or a channel serving another job) writes nothing, so
// none of its other single-use keys is spent either.
func testRefusedChangeSpendsNoKey(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	other := NewJob("qa-owner", T0, jobs.StatusPending)
	other.Channels = []jobs.Channel{{ID: "C-taken", Name: "taken"}}
	require.NoError(t, db.CreateJob(ctx, other, jobs.Effects{}))
	require.NoError(t, db.CreateJob(ctx, NewJob("qa-keys", T0, jobs.StatusPending), jobs.Effects{}))
	fresh, err := db.Once(ctx, "callback:spent")
	require.NoError(t, err)
	require.True(t, fresh)
	for _, tc := range []struct {
		name    string
		key     string
		once    []string
		channel bool
	}{
		{"a key spent before", "callback:a", []string{"callback:a", "callback:spent"}, false},
		{"a channel of another job", "callback:b", []string{"callback:b"}, true},
	} {
		_, _, err := db.UpdateJob(ctx, "qa-keys", func(j *jobs.Job) (jobs.Effects, error) {
			j.Version++
			if tc.channel {
				j.Channels = append(j.Channels, jobs.Channel{ID: "C-taken", Name: "taken"})
			}
			return jobs.Effects{Once: tc.once, Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "refused"}}}, nil
		})
		require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), tc.name)
		fresh, err := db.Once(ctx, tc.key)
		require.NoError(t, err)
		require.True(t, fresh, "%s: the refused change spent %s", tc.name, tc.key)
	}
	got, err := db.GetJob(ctx, "qa-keys")
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.Version, "nothing of the refused changes was written")
	log, err := db.Log(ctx, "qa-keys", 0, 10)
	require.NoError(t, err)
	require.Empty(t, log)
}

func testFreezes(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	got, err := db.Freezes(ctx)
	require.NoError(t, err)
	require.Empty(t, got)
	late := jobs.Freeze{ID: "fz-b", Reason: "quarter end", From: T0, Until: T0.Add(48 * time.Hour),
		Environments: []string{"production"}, Deployments: []string{}, BlockCompletion: true, CreatedBy: "root", CreatedAt: T0}
	soon := jobs.Freeze{ID: "fz-a", Reason: "incident", From: T0, Until: T0.Add(time.Hour),
		Environments: []string{}, Deployments: []string{"infra-rollout"}, CreatedBy: "root", CreatedAt: T0}
	require.NoError(t, db.PutFreeze(ctx, late))
	require.NoError(t, db.PutFreeze(ctx, soon))
	got, err = db.Freezes(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []string{"fz-a", "fz-b"}, []string{got[0].ID, got[1].ID}, "soonest-ending first")
	require.True(t, got[1].Until.Equal(late.Until))
	got[1].Until, got[1].From, got[1].CreatedAt = late.Until, late.From, late.CreatedAt
	require.Equal(t, late, got[1])

	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeleteFreeze(ctx, "fz-none")))
	require.NoError(t, db.DeleteFreeze(ctx, "fz-a"))
	got, err = db.Freezes(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "fz-b", got[0].ID)
}

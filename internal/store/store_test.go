package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var t0 = time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)

func newJob(id string, created time.Time, status jobs.Status) *jobs.Job {
	return &jobs.Job{ID: id, Name: "deploy " + id, Status: status, Version: 1, CreatedAt: created, UpdatedAt: created}
}

func TestDB_CreateGetUpdate(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	job := newJob("qa-1", t0, jobs.StatusPending)
	require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "created"}}}))

	err := db.CreateJob(ctx, job, jobs.Effects{})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "second create must conflict")

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
		return jobs.Effects{Log: []jobs.LogEntry{{Text: "never"}}}, jobs.Errorf(jobs.ECONFLICT, "refused")
	})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	after, err := db.GetJob(ctx, "qa-1")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusInProgress, after.Status, "a refused change writes nothing")
	log, err := db.Log(ctx, "qa-1", 0, 100)
	require.NoError(t, err)
	require.Len(t, log, 2)
}

func TestDB_ListJobs(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	for i := 0; i < 25; i++ {
		status := jobs.StatusPending
		if i%2 == 0 {
			status = jobs.StatusInProgress
		}
		require.NoError(t, db.CreateJob(ctx, newJob(fmt.Sprintf("j-%02d", i), t0.Add(time.Duration(i)*time.Minute), status), jobs.Effects{}))
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
	_, err := db.ListJobs(ctx, jobs.ListQuery{Cursor: "!!", Limit: 1})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
}

func TestDB_StatusIndexMoves(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	require.NoError(t, db.CreateJob(ctx, newJob("a", t0, jobs.StatusPending), jobs.Effects{}))
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

func TestDB_AppendLogDedupe(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	require.NoError(t, db.CreateJob(ctx, newJob("a", t0, jobs.StatusPending), jobs.Effects{}))
	added, err := db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: "x", Key: "k1"}, {Text: "y", Key: "k2"}})
	require.NoError(t, err)
	require.Len(t, added, 2)
	added, err = db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: "x again", Key: "k1"}, {Text: "z"}})
	require.NoError(t, err)
	require.Len(t, added, 1)
	require.Equal(t, "z", added[0].Text)
	_, err = db.AppendLog(ctx, "nope", []jobs.LogEntry{{Text: "x"}})
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	log, err := db.Log(ctx, "a", 1, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{2, 3}, []uint64{log[0].Seq, log[1].Seq})
}

func TestDB_ConcurrentAppendsKeepOrder(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	require.NoError(t, db.CreateJob(ctx, newJob("a", t0, jobs.StatusPending), jobs.Effects{}))
	var wg sync.WaitGroup
	errs := make(chan error, 8*50) // only the test goroutine may call require
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := db.AppendLog(ctx, "a", []jobs.LogEntry{{Text: fmt.Sprintf("w%d-%d", w, i)}}); err != nil {
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

func TestDB_TimersAndChannels(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	deadline := t0.Add(time.Hour)
	job := newJob("a", t0, jobs.StatusActionRequired)
	job.Gates = []*jobs.Gate{{ID: "g1", State: jobs.GateOpen, OpenedAt: t0, Deadline: &deadline}}
	job.Channels = []jobs.Channel{{ID: "C1", Name: "job-a"}}
	require.NoError(t, db.CreateJob(ctx, job, jobs.Effects{}))
	require.NoError(t, db.CreateJob(ctx, newJob("b", t0, jobs.StatusPending), jobs.Effects{}))

	ids, next, err := db.DueJobs(ctx, t0, 10)
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

func TestDB_Outbox(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	n1 := jobs.Notification{ID: "a/g1/open/slack:C1", JobID: "a", DueAt: t0}
	n2 := jobs.Notification{ID: "a/g1/open/email:x", JobID: "a", DueAt: t0.Add(time.Minute)}
	require.NoError(t, db.CreateJob(ctx, newJob("a", t0, jobs.StatusPending), jobs.Effects{Notify: []jobs.Notification{n1, n2, n1}}))

	due, next, err := db.Outbox(ctx, t0, 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "duplicate ids are enqueued once; n2 not due yet")
	require.True(t, next.Equal(n2.DueAt))

	require.NoError(t, db.DeferNotification(ctx, n1.ID, t0.Add(time.Hour), "boom"))
	due, _, err = db.Outbox(ctx, t0.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{n2.ID}, []string{due[0].ID})
	require.NoError(t, db.SettleNotification(ctx, n2.ID))
	due, _, _ = db.Outbox(ctx, t0.Add(2*time.Hour), 10)
	require.Len(t, due, 1)
	require.Equal(t, 1, due[0].Attempts)
	require.Equal(t, "boom", due[0].LastError)

	// A settled id is never enqueued again for the same cause.
	_, _, err = db.UpdateJob(ctx, "a", func(j *jobs.Job) (jobs.Effects, error) {
		return jobs.Effects{Notify: []jobs.Notification{n2}}, nil
	})
	require.NoError(t, err)
	due, _, _ = db.Outbox(ctx, t0.Add(2*time.Hour), 10)
	require.Len(t, due, 1)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeferNotification(ctx, "nope", t0, "")))
}

func TestDB_Once(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	first, err := db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.True(t, first)
	first, err = db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.False(t, first)
	require.NoError(t, db.Close())
	db, err = store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	first, err = db.Once(ctx, "slack-event:Ev1")
	require.NoError(t, err)
	require.False(t, first, "dedupe survives a restart")
}

func TestOpen_BadFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	require.NoError(t, os.WriteFile(garbage, bytes.Repeat([]byte("not a bolt file "), 512), 0o600))
	for _, tc := range []struct{ name, path string }{
		{"not a database", garbage},
		{"a directory", dir},
		{"missing parent", filepath.Join(dir, "no", "such", "cla.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(tc.path)
			if err == nil {
				_ = db.Close()
			}
			require.Error(t, err)
		})
	}
}

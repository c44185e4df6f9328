package pgstore_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func open(t testing.TB, rawURL string, opts pgstore.Options) *pgstore.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := pgstore.Open(ctx, rawURL, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestDB_Contract runs the jobs.Store contract suite on PostgreSQL, each
// test in a fresh schema.
func TestDB_Contract(t *testing.T) {
	pgtest.URL(t)
	storetest.Run(t, func(t testing.TB) jobs.Store {
		return open(t, pgtest.FreshURL(t), pgstore.Options{})
	})
}

func tables(t *testing.T, rawURL string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, rawURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestOpen_Errors(t *testing.T) {
	base := pgtest.URL(t)
	fresh := pgtest.FreshURL(t)
	u, err := url.Parse(fresh)
	require.NoError(t, err)

	wrongPw := *u
	wrongPw.User = url.UserPassword(u.User.Username(), "not-the-password")
	noDB := *u
	noDB.Path = "/no_such_database_cla"
	// Port 1 (tcpmux): nothing listens there, and it is below the ephemeral
	// range, so no other test's listener or outgoing connection can take it
	// (a port freed by closing a :0 listener could be, even by the connection
	// attempt itself, which would then talk to itself).
	closedAddr := "127.0.0.1:1"
	unreachable := *u
	unreachable.Host = closedAddr

	tests := []struct {
		name, url string
		want      []string
	}{
		{"wrong password", wrongPw.String(), []string{"authentication failed", "wrong user or password"}},
		{"no such database", noDB.String(), []string{"database does not exist"}},
		{"unreachable", unreachable.String(), []string{"unreachable", closedAddr}},
		{"garbage url", "postgres://%zz", []string{"invalid url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Generous: a loaded server may take seconds to refuse a
			// password; the refused port fails at once anyway.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			db, err := pgstore.Open(ctx, tt.url, pgstore.Options{ConnectTimeout: 30 * time.Second})
			if err == nil {
				_ = db.Close()
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "not-the-password", "a password never appears in an error")
		})
	}
	require.Empty(t, tables(t, fresh), "failed opens wrote nothing")
	_ = base
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	db := open(t, fresh, pgstore.Options{})
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, storetest.NewJob("kept", storetest.T0, jobs.StatusPending), jobs.Effects{}))
	_, err := db.Pool().Exec(ctx, `INSERT INTO cla_schema (version) VALUES ($1)`, pgstore.SchemaVersion()+1)
	require.NoError(t, err)
	_ = db.Close()

	_, err = pgstore.Open(ctx, fresh, pgstore.Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), fmt.Sprintf("schema version %d is newer than this cla supports (%d)", pgstore.SchemaVersion()+1, pgstore.SchemaVersion()))
	require.NotContains(t, err.Error(), ":cla@", "no password in the error")

	conn, err := pgx.Connect(ctx, fresh)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM cla_jobs`).Scan(&n))
	require.Equal(t, 1, n, "the refused open left the data alone")
}

// TestOpen_ConcurrentMigrations: replicas starting together migrate once.
func TestOpen_ConcurrentMigrations(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := pgstore.Open(context.Background(), fresh, pgstore.Options{})
			if err != nil {
				errs <- err
				return
			}
			_ = db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fresh)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM cla_schema`).Scan(&n))
	require.Equal(t, pgstore.SchemaVersion(), n, "each migration recorded once")
}

// TestDB_OutboxLeases: two replicas never hold the same notification; a
// lease that runs out passes to the other, and the first replica's late
// settle is fenced off.
func TestDB_OutboxLeases(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	a := open(t, fresh, pgstore.Options{Lease: time.Hour})
	b := open(t, fresh, pgstore.Options{Lease: time.Hour})
	ctx := context.Background()
	var ns []jobs.Notification
	for i := 0; i < 6; i++ {
		ns = append(ns, jobs.Notification{ID: fmt.Sprintf("n%d", i), JobID: "a", DueAt: storetest.T0})
	}
	require.NoError(t, a.CreateJob(ctx, storetest.NewJob("a", storetest.T0, jobs.StatusPending), jobs.Effects{Notify: ns}))

	gotA, _, err := a.Outbox(ctx, storetest.T0, 4)
	require.NoError(t, err)
	gotB, next, err := b.Outbox(ctx, storetest.T0, 10)
	require.NoError(t, err)
	require.Len(t, gotA, 4)
	require.Empty(t, gotB, "a job's notifications stay with the replica that holds any of them (in order, one deliverer)")
	require.True(t, next.After(time.Now().Add(50*time.Minute)), "the rest frees when a's lease ends, got %v", next)
	seen := map[string]bool{}
	for _, n := range append(gotA, gotB...) {
		require.False(t, seen[n.ID], "%s handed to two replicas", n.ID)
		seen[n.ID] = true
	}
	again, _, err := a.Outbox(ctx, storetest.T0, 10)
	require.NoError(t, err)
	require.Len(t, again, 6, "a reads its own leases again, and the rest of the job with them")

	// a's lease runs out (as if a died): b takes the notification over.
	_, err = a.Pool().Exec(ctx, `UPDATE cla_outbox SET lease_until = now() - interval '1 second' WHERE lease_owner IS NOT NULL`)
	require.NoError(t, err)
	taken, _, err := b.Outbox(ctx, storetest.T0, 10)
	require.NoError(t, err)
	require.Contains(t, idsOf(taken), gotA[0].ID)
	require.NoError(t, a.DeferNotification(ctx, gotA[0].ID, storetest.T0.Add(time.Hour), "late"))
	require.NoError(t, a.SettleNotification(ctx, gotA[0].ID))
	var settled bool
	var data string
	require.NoError(t, a.Pool().QueryRow(ctx, `SELECT settled, convert_from(data, 'UTF8') FROM cla_outbox WHERE id = $1`, gotA[0].ID).Scan(&settled, &data))
	require.False(t, settled, "a's settle after losing the lease is fenced off")
	require.False(t, strings.Contains(data, "late"), "a's defer after losing the lease is fenced off")
	require.NoError(t, b.SettleNotification(ctx, gotA[0].ID))
	require.NoError(t, a.Pool().QueryRow(ctx, `SELECT settled FROM cla_outbox WHERE id = $1`, gotA[0].ID).Scan(&settled))
	require.True(t, settled, "the owner settles")
}

// TestDB_OutboxDueWakesAtForeignLease: a due lane another replica holds
// is left to it, and the pass says to look again when that lease ends, so
// a replica that died holding a lane is taken over without any other
// change waking the survivors.
func TestDB_OutboxDueWakesAtForeignLease(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	a := open(t, fresh, pgstore.Options{Lease: time.Hour})
	b := open(t, fresh, pgstore.Options{Lease: time.Hour})
	ctx := context.Background()
	var ns []jobs.Notification
	for i := 0; i < 3; i++ {
		ns = append(ns, jobs.Notification{ID: fmt.Sprintf("n%d", i), JobID: "a", DueAt: storetest.T0})
	}
	require.NoError(t, a.CreateJob(ctx, storetest.NewJob("a", storetest.T0, jobs.StatusPending), jobs.Effects{Notify: ns}))
	q := jobs.OutboxQuery{At: storetest.T0, MaxLanes: 4, PerLane: 10}
	gotA, err := a.OutboxDue(ctx, q)
	require.NoError(t, err)
	require.Len(t, gotA.Lanes, 1)
	gotB, err := b.OutboxDue(ctx, q)
	require.NoError(t, err)
	require.Empty(t, gotB.Lanes, "the lane is a's while its lease lasts")
	require.False(t, gotB.Next.IsZero(), "b is told when to look again")
	require.WithinDuration(t, time.Now().Add(time.Hour), gotB.Next, 5*time.Minute, "at the end of a's lease")

	// a dies: its lease runs out, and b's next pass takes the lane over.
	_, err = a.Pool().Exec(ctx, `UPDATE cla_outbox SET lease_until = now() - interval '1 second' WHERE lease_owner IS NOT NULL`)
	require.NoError(t, err)
	gotB, err = b.OutboxDue(ctx, q)
	require.NoError(t, err)
	require.Len(t, gotB.Lanes, 1)
	require.ElementsMatch(t, []string{"n0", "n1", "n2"}, idsOf(gotB.Lanes[0].Items))
}

func idsOf(ns []jobs.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// TestDB_TimerLeases: due jobs are claimed by one replica at a time; a
// replica's claims pass to another when its lease ends, and firing (an
// update) releases the claim.
func TestDB_TimerLeases(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	// Leases of an hour: the claims must not run out between the test's
	// steps, however slow the machine; running out is staged by hand.
	a := open(t, fresh, pgstore.Options{TimerLease: time.Hour})
	b := open(t, fresh, pgstore.Options{TimerLease: time.Hour})
	ctx := context.Background()
	t0 := storetest.T0
	for i := 0; i < 4; i++ {
		j := storetest.NewJob(fmt.Sprintf("d-%d", i), t0, jobs.StatusActionRequired)
		d := t0.Add(time.Duration(i+1) * time.Minute)
		j.Gates = []*jobs.Gate{{ID: "g1", State: jobs.GateOpen, OpenedAt: t0, Deadline: &d}}
		require.NoError(t, a.CreateJob(ctx, j, jobs.Effects{}))
	}
	now := t0.Add(time.Hour)
	gotA, _, err := a.DueJobs(ctx, now, 2)
	require.NoError(t, err)
	gotB, nextB, err := b.DueJobs(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"d-0", "d-1"}, gotA)
	require.Equal(t, []string{"d-2", "d-3"}, gotB, "b skips what a holds")
	require.True(t, nextB.After(time.Now().Add(50*time.Minute)), "b wakes when a's lease ends, got %v", nextB)
	again, _, err := a.DueJobs(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"d-0", "d-1"}, again, "a keeps its own claims")

	// a fires d-0 (an update): the claim is released with the timer.
	_, _, err = a.UpdateJob(ctx, "d-0", func(j *jobs.Job) (jobs.Effects, error) {
		d := now.Add(time.Hour)
		j.Gates[0].Deadline = &d
		return jobs.Effects{}, nil
	})
	require.NoError(t, err)
	// a dies: its lease on d-1 runs out and b takes it.
	_, err = a.Pool().Exec(ctx, `UPDATE cla_jobs SET timer_lease_until = now() - interval '1 second' WHERE timer_owner IS NOT NULL AND id = 'd-1'`)
	require.NoError(t, err)
	gotB, _, err = b.DueJobs(ctx, now.Add(2*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"d-1", "d-2", "d-3", "d-0"}, gotB)
}

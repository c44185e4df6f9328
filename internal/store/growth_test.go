package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"
)

// growth is what a bbolt file holds: bytes in use by keys and values (leaf
// and branch pages' used part, every bucket) and bytes of pages allocated
// (the high-water mark, free pages included).
type growth struct{ inUse, pages, dedupe int64 }

func (g growth) minus(o growth) growth {
	return growth{g.inUse - o.inUse, g.pages - o.pages, g.dedupe - o.dedupe}
}

// measure reads the file's figures with bbolt itself after the store is
// closed. dedupe counts the once, log_keys and outbox_ids buckets.
func measure(t *testing.T, path string) growth {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer b.Close()
	var g growth
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		g.pages = tx.Size()
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			s := bk.Stats()
			used := int64(s.LeafInuse + s.BranchInuse)
			g.inUse += used
			switch string(name) {
			case "once", "log_keys", "outbox_ids":
				g.dedupe += used
			}
			return nil
		})
	}))
	return g
}

// growthScale multiplies the workload (CLA_GROWTH_SCALE, default 1) so
// the README's figures can be taken on bigger files.
func growthScale(t *testing.T) int {
	v := os.Getenv("CLA_GROWTH_SCALE")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "CLA_GROWTH_SCALE")
	return max(n, 1)
}

// parallel runs fn(i) for i < n on 16 goroutines, so commits are shared.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error { return fn(i) })
	}
	require.NoError(t, g.Wait())
}

// settleAll delivers (settles) every pending notification, as the outbox
// worker would: what stays is the settled ids.
func settleAll(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for {
		ns, _, err := db.Outbox(ctx, time.Now().Add(24*time.Hour), 500)
		require.NoError(t, err)
		if len(ns) == 0 {
			return
		}
		parallel(t, len(ns), func(i int) error { return db.SettleNotification(ctx, ns[i].ID) })
	}
}

// TestDB_Growth measures how a real bbolt file grows per job, per gate
// (opened in Slack, approved, its notifications delivered) and per
// mirrored Slack message (its event id, log entry and log key), and
// checks the figures stay in bounds. README "Database growth" quotes it:
//
//	CLA_GROWTH_SCALE=10 go test -run TestDB_Growth -v ./internal/store/
func TestDB_Growth(t *testing.T) {
	scale := growthScale(t)
	nJobs, nMsgs := 200*scale, 2000*scale
	ctx := context.Background()
	ci := jobs.Identity{Name: "ci"}
	lead := jobs.Identity{Name: "lena", Groups: []string{"lead"}}
	var prunedPath string
	run := func(name string, work func(t *testing.T, db *store.DB, svc *jobs.Service)) growth {
		path := filepath.Join(t.TempDir(), name+".db")
		if name == "pruned" {
			prunedPath = path
		}
		db, err := store.Open(path)
		require.NoError(t, err)
		work(t, db, jobs.NewService(db, jobs.NewBroker(), jobs.Options{Limits: jobs.Limits{GatesPerMinute: 1 << 30}}))
		require.NoError(t, db.Close())
		return measure(t, path)
	}
	createJobs := func(t *testing.T, svc *jobs.Service) {
		parallel(t, nJobs, func(i int) error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("deploy-web-%06d", i), Name: "deploy web to production",
				Context: map[string]any{"version": "v1.42." + strconv.Itoa(i), "environment": "production"}})
			return err
		})
	}
	empty := run("empty", func(*testing.T, *store.DB, *jobs.Service) {})
	withJobs := run("jobs", func(t *testing.T, _ *store.DB, svc *jobs.Service) { createJobs(t, svc) })
	withGates := run("gates", func(t *testing.T, db *store.DB, svc *jobs.Service) {
		createJobs(t, svc)
		parallel(t, nJobs, func(i int) error {
			id := fmt.Sprintf("deploy-web-%06d", i)
			_, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindApproval, Name: "Production approval",
				Assignees: []string{"lead"}, Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: "C0DEPLOYS"}}})
			if err != nil {
				return err
			}
			_, _, err = svc.Resolve(ctx, lead, jobs.ViaSlack, id, jobs.Resolution{Action: jobs.ActApprove, Message: "looks good"})
			return err
		})
		settleAll(t, db)
	})
	mirror := func(t *testing.T, db *store.DB) {
		require.NoError(t, db.CreateJob(ctx, newJob("deploy-web", time.Now(), jobs.StatusInProgress), jobs.Effects{}))
		parallel(t, nMsgs, func(i int) error {
			ts := fmt.Sprintf("1764633600.%06d", i)
			if _, err := db.Once(ctx, fmt.Sprintf("slack-event:Ev0A%010d", i)); err != nil {
				return err
			}
			_, err := db.AppendLog(ctx, "deploy-web", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "Olga Ops", Via: jobs.ViaSlack,
				At: time.Now(), Text: "rolled out to eu-west-1, watching the error rate for ten minutes",
				Fields: map[string]string{"user": "U0OLGA", "ts": ts, "channel": "C0DEPLOYS"}, Key: "slack:C0DEPLOYS:" + ts}}, 0)
			return err
		})
	}
	withMsgs := run("messages", func(t *testing.T, db *store.DB, _ *jobs.Service) { mirror(t, db) })
	pruned := run("pruned", func(t *testing.T, db *store.DB, _ *jobs.Service) {
		mirror(t, db)
		storetest.PruneAll(t, db, time.Now().Add(time.Hour), 1000)
	})
	compacted := compact(t, prunedPath)
	perJob := withJobs.minus(empty)
	perGate := withGates.minus(withJobs)
	perMsg := withMsgs.minus(empty)
	for _, r := range []struct {
		what string
		g    growth
		n    int
	}{{"job", perJob, nJobs}, {"gate", perGate, nJobs}, {"mirrored message", perMsg, nMsgs},
		{"message, pruned", pruned.minus(empty), nMsgs},
		{"message, compacted", compacted.minus(empty), nMsgs}} {
		t.Logf("per %-18s in use %5d B (dedupe keys %4d B), pages allocated %5d B  (n=%d)",
			r.what, r.g.inUse/int64(r.n), r.g.dedupe/int64(r.n), r.g.pages/int64(r.n), r.n)
		require.Positive(t, r.g.inUse, r.what)
		require.Less(t, r.g.inUse/int64(r.n), int64(8<<10), "a %s takes less than 8 KiB", r.what)
	}
	require.Positive(t, perMsg.dedupe, "a mirrored message records dedupe keys")
	require.Zero(t, pruned.minus(empty).dedupe, "pruning leaves no dedupe key behind")
	require.Less(t, compacted.pages, pruned.pages, "compaction gives pages back")
}

// compact copies the file at path the way `bbolt compact` does and
// measures the copy.
func compact(t *testing.T, path string) growth {
	t.Helper()
	src, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer src.Close()
	out := path + ".compact"
	dst, err := bolt.Open(out, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, bolt.Compact(dst, src, 64<<20))
	require.NoError(t, dst.Close())
	return measure(t, out)
}

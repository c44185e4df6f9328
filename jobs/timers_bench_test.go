package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// firstDue signals when the scheduler's first DueJobs read returned: the
// moment every stored timer is armed again.
type firstDue struct {
	jobs.Store
	once  sync.Once
	armed chan struct{}
}

func (f *firstDue) DueJobs(ctx context.Context, t time.Time, limit int) ([]string, time.Time, error) {
	ids, next, err := f.Store.DueJobs(ctx, t, limit)
	f.once.Do(func() { close(f.armed) })
	return ids, next, err
}

// BenchmarkTimers_Rearm100k builds a store with 100,000 open gates whose
// hourly reminders are spread evenly over the hour, restarts, and reports
// the time to re-arm (open + first DueJobs + scheduler running), the memory
// afterwards, and how late reminders fire under that load. The restart
// follows a clean stop (Close wrote the free-page list); rearm-crash-ms is
// the same re-arm on a copy of the file taken as if the process had been
// killed after its last commit (Open reads the free-page list that commit
// wrote, or walks the file when the list is too long to be written).
// On demand only:
//
//	go test -run='^$' -bench=BenchmarkTimers_Rearm100k -benchtime=1x -timeout=30m ./jobs/
func BenchmarkTimers_Rearm100k(b *testing.B) {
	const gates, window = 100_000, 10 * time.Second
	spacing := time.Hour / gates
	path := filepath.Join(b.TempDir(), "cla.db")
	v0 := time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC)
	buildGates(b, path, gates, v0, spacing)
	runtime.GC()
	debug.FreeOSMemory()

	// Restart 3 s (virtual) before the first reminder is due.
	shift := time.Until(v0.Add(time.Hour - 3*time.Second))
	clock := func() time.Time { return time.Now().Add(shift) }
	b.ResetTimer()
	db, stop, rearm := armTimers(b, path, clock)
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, anon, file := vmRSS(), procStatus("RssAnon:"), procStatus("RssFile:")

	time.Sleep(window) // reminders fall due every 36 ms meanwhile
	stop()
	drifts := reminderDrifts(b, db, v0, spacing)
	crashed := filepath.Join(b.TempDir(), "crashed.db")
	copyFile(b, path, crashed) // nothing writes now: the file as a kill -9 would leave it
	require.NoError(b, db.Close())
	crashedDB, stop, crashRearm := armTimers(b, crashed, clock)
	stop()
	require.NoError(b, crashedDB.Close())
	require.NotEmpty(b, drifts, "reminders fired during the window")
	b.ReportMetric(float64(rearm)/float64(time.Millisecond), "rearm-ms")
	b.ReportMetric(float64(crashRearm)/float64(time.Millisecond), "rearm-crash-ms")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(rss/(1<<20), "rss-MB")
	// The file-backed part is the database's pages that opening it read
	// (with NoFreelistSync the free pages are found by a scan): clean page
	// cache the kernel reclaims at will. The anonymous part is the heap's.
	b.ReportMetric(anon/(1<<20), "rss-anon-MB")
	b.ReportMetric(file/(1<<20), "rss-file-MB")
	b.ReportMetric(float64(len(drifts)), "fired")
	pct := func(q float64) float64 {
		return float64(drifts[int(q*float64(len(drifts)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.5), "drift-p50-ms")
	b.ReportMetric(pct(0.99), "drift-p99-ms")
	b.ReportMetric(pct(1), "drift-max-ms")
}

// armTimers opens the store at path and runs its timers until they are
// armed; it returns the store, a stop for the timers, and how long opening
// and arming took.
func armTimers(b *testing.B, path string, clock func() time.Time) (*store.DB, func(), time.Duration) {
	began := time.Now()
	db, err := store.Open(path)
	require.NoError(b, err)
	spy := &firstDue{Store: db, armed: make(chan struct{})}
	svc := jobs.NewService(spy, jobs.NewBroker(), jobs.Options{Now: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.RunTimers(ctx, slog.New(slog.DiscardHandler)) }()
	<-spy.armed
	took := time.Since(began)
	return db, func() { cancel(); <-done }, took
}

// copyFile copies the file at from to to and syncs the copy: a process
// killed after its last commit leaves a file whose pages are all on disk
// (every commit synced them), so the open that follows has none of the
// copy's writes to flush.
func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	require.NoError(b, err)
	f, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(b, err)
	_, err = f.Write(data)
	require.NoError(b, errors.Join(err, f.Sync(), f.Close()))
}

// buildGates creates n jobs, each with an open gate (one Slack channel)
// opened at v0, whose first reminder is due at v0 + 1h + i·spacing.
func buildGates(b *testing.B, path string, n int, v0 time.Time, spacing time.Duration) {
	db, err := store.Open(path)
	require.NoError(b, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Now: func() time.Time { return v0 }})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 { // concurrent creators share group commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				_, err := svc.CreateJob(context.Background(), jobs.Identity{Name: "ci", Admin: true}, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("bench-%d", i), Name: "bench",
					Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "step", Assignees: []string{"ops"},
						Reminder: &jobs.Reminder{Interval: (time.Hour + time.Duration(i)*spacing).String(), MaxReminders: 100},
						Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: "C0BENCH"}}}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(b, db.Close())
}

// reminderDrifts returns, sorted, how late each fired reminder was.
func reminderDrifts(b *testing.B, db *store.DB, v0 time.Time, spacing time.Duration) []time.Duration {
	all, _, err := db.Outbox(context.Background(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1_000_000)
	require.NoError(b, err)
	var out []time.Duration
	for _, n := range all {
		if n.Event != jobs.NotifyReminder {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(n.JobID, "bench-"))
		require.NoError(b, err)
		out = append(out, n.CreatedAt.Sub(v0.Add(time.Hour+time.Duration(i)*spacing)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// vmRSS reads the resident set size of this process, in bytes.
func vmRSS() float64 { return procStatus("VmRSS:") }

// procStatus reads one size line of /proc/self/status, in bytes.
func procStatus(name string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

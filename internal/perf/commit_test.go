package perf

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkCommit compares durable completions per second through the
// HTTP API (64 clients on loopback, each completion one group-committed
// bbolt transaction with its log line and index moves) with raw
// bolt.Batch puts per second of a record the size of the completed job,
// from 64 goroutines, with MaxBatchDelay 2 ms (bbolt's default of 10 ms is
// slower here). The clients are a wrk-like keep-alive HTTP/1.1 load
// generator (wireClients), so the 2 cores go to the server rather than to
// net/http's client transport; the same run also measures completions
// through net/http's client, reported as nethttp-*. Rounds alternate;
// it reports the rates over the whole run, the median over the rounds of
// their ratio (each round's rates are measured seconds apart, so load from
// elsewhere falls on all), the process CPU time per completion, and what
// the store's one writer did meanwhile (store.CommitStats): changes per
// commit, pages written per change, time per commit and the share of it
// spent writing and syncing pages, and how busy the writer was.
//
//	go test -run '^$' -bench 'Commit$' -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkCommit(b *testing.B) {
	const (
		rounds = 5
		per    = 2000
	)
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	api := web.New(web.Config{Service: svc, Logger: slog.New(slog.DiscardHandler),
		Keyring: web.NewKeyring([]web.Credential{{Digest: web.HashToken(tokenCI), Identity: ci}})})
	srv := httptest.NewServer(api)
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	s := &stack{b: b, db: db, svc: svc, srv: srv, hc: &http.Client{Transport: tr}}
	wc := newWireClients(srv.URL, tokenCI)
	b.Cleanup(func() { api.Stop(); wc.close(); srv.Close(); tr.CloseIdleConnections(); _ = db.Close() })

	ids := openActions(b, svc, 2*rounds*per) // the first half for the wire clients, the second for net/http's
	raw := openRaw(b)

	var apiTime, netTime, rawTime, apiCPU time.Duration
	var ratios, netRatios []float64
	var writer commitDelta // the store's writer during the wire clients' rounds
	record := 0
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			cpu0, stats0 := processCPU(), db.CommitStats()
			elapsed := s.completeWire(wc, ids[r*per:(r+1)*per])
			apiCPU += processCPU() - cpu0
			writer.add(stats0, db.CommitStats())
			apiTime += elapsed
			if record == 0 { // the size of a completed job's record
				job, err := svc.GetJob(context.Background(), ids[0])
				require.NoError(b, err)
				data, err := json.Marshal(job)
				require.NoError(b, err)
				record = len(data)
			}
			_, netElapsed := s.complete(ids[(rounds+r)*per : (rounds+r+1)*per])
			netTime += netElapsed
			rawElapsed := rawPuts(b, raw, r*per, per, record)
			rawTime += rawElapsed
			ratios = append(ratios, rawElapsed.Seconds()/elapsed.Seconds())
			netRatios = append(netRatios, rawElapsed.Seconds()/netElapsed.Seconds())
		}
	}
	b.StopTimer()
	n := float64(rounds * per)
	apiRate, netRate, rawRate := n/apiTime.Seconds(), n/netTime.Seconds(), n/rawTime.Seconds()
	b.ReportMetric(apiRate, "completions/s")
	b.ReportMetric(rawRate, "raw-puts/s")
	b.ReportMetric(apiRate/rawRate, "ratio")
	b.ReportMetric(median(ratios), "ratio-median")
	b.ReportMetric(float64(apiCPU.Microseconds())/n, "cpu-us/completion")
	b.ReportMetric(float64(writer.Changes)/float64(writer.Commits), "changes/commit")
	b.ReportMetric(float64(writer.PagesWritten)/float64(writer.Changes), "pages/change")
	b.ReportMetric(ms(writer.Busy)/float64(writer.Commits), "ms/commit")
	b.ReportMetric(ms(writer.Write)/float64(writer.Commits), "write-ms/commit")
	b.ReportMetric(writer.Busy.Seconds()/apiTime.Seconds(), "writer-busy")
	b.ReportMetric(netRate, "nethttp-completions/s")
	b.ReportMetric(median(netRatios), "nethttp-ratio-median")
	b.Logf("per-round ratios: %.2f (net/http client: %.2f)", ratios, netRatios)
	b.ReportMetric(float64(record), "record-bytes")
}

// commitDelta sums the store's group-commit counters over some intervals.
type commitDelta store.CommitStats

func (d *commitDelta) add(from, to store.CommitStats) {
	d.Commits += to.Commits - from.Commits
	d.Changes += to.Changes - from.Changes
	d.PagesWritten += to.PagesWritten - from.PagesWritten
	d.Busy += to.Busy - from.Busy
	d.Write += to.Write - from.Write
}

// processCPU is the user and system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openActions creates n jobs c-0 … c-(n-1), each with an open action
// gate, from 64 goroutines.
func openActions(b *testing.B, svc *jobs.Service, n int) []string {
	ids := make([]string, n)
	parallel(clients, len(ids), func(i int) {
		ids[i] = fmt.Sprintf("c-%d", i)
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "step"}
		if _, err := svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: ids[i], Name: "bench", Gate: &cfg}); err != nil {
			b.Error(err)
		}
	})
	return ids
}

// openRaw opens the raw bbolt file the rates are compared with, its
// MaxBatchDelay at 2 ms (bbolt's default of 10 ms is slower here).
func openRaw(b *testing.B) *bolt.DB {
	raw, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	require.NoError(b, err)
	raw.MaxBatchDelay = 2 * time.Millisecond
	b.Cleanup(func() { _ = raw.Close() })
	require.NoError(b, raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("r")); return err }))
	return raw
}

// rawPuts puts n records of size bytes, each in its own Batch call, from
// 64 goroutines, and returns the elapsed time.
func rawPuts(b *testing.B, db *bolt.DB, from, n, size int) time.Duration {
	value := make([]byte, size)
	start := time.Now()
	parallel(clients, n, func(i int) {
		key := binary.BigEndian.AppendUint64(nil, uint64(from+i))
		err := db.Batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte("r")).Put(key, value) })
		if err != nil {
			b.Error(err)
		}
	})
	return time.Since(start)
}

// BenchmarkCommitLayers splits BenchmarkCommit's gap by layer, each rate
// measured in the same round as raw bolt.Batch puts (64 goroutines
// each): completions through jobs.Service.Resolve without HTTP, and
// store.UpdateJob with a change that only bumps the version (read, decode,
// encode, write with index moves, no log line). It reports each rate ÷
// the raw rate, medians over 3 rounds.
//
//	go test -run '^$' -bench CommitLayers -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkCommitLayers(b *testing.B) {
	const (
		rounds = 3
		per    = 2000
	)
	db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ids := openActions(b, svc, rounds*per)
	raw := openRaw(b)
	timed := func(fn func(i int)) float64 {
		start := time.Now()
		parallel(clients, per, fn)
		return float64(per) / time.Since(start).Seconds()
	}
	var service, update []float64
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			svcRate := timed(func(i int) {
				if _, _, err := svc.Resolve(context.Background(), ci, jobs.ViaAPI, ids[r*per+i], jobs.Resolution{Action: jobs.ActComplete}); err != nil {
					b.Error(err)
				}
			})
			updRate := timed(func(i int) {
				_, _, err := db.UpdateJob(context.Background(), ids[r*per+i], func(j *jobs.Job) (jobs.Effects, error) {
					j.Version++
					return jobs.Effects{}, nil
				})
				if err != nil {
					b.Error(err)
				}
			})
			rawRate := float64(per) / rawPuts(b, raw, r*per, per, 750).Seconds()
			service = append(service, svcRate/rawRate)
			update = append(update, updRate/rawRate)
		}
	}
	b.StopTimer()
	b.ReportMetric(median(service), "service-ratio")
	b.ReportMetric(median(update), "update-ratio")
}

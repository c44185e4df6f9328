package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// BenchmarkReplicas_Complete measures completions through the HTTP API
// (throughput and the latency until the 200 acknowledges the durable
// write) on bbolt, and on one PostgreSQL with 1 and with 3 replicas (each
// its own store pool, service and HTTP server; clients spread over them
// round-robin), in the same run. The PostgreSQL cases need
// CLA_TEST_POSTGRES.
func BenchmarkReplicas_Complete(b *testing.B) {
	cases := []struct {
		name     string
		postgres bool
		replicas int
	}{
		{"store=bbolt/replicas=1", false, 1},
		{"store=postgres/replicas=1", true, 1},
		{"store=postgres/replicas=3", true, 3},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var urls []string
			var svcs []*jobs.Service
			open := func() jobs.Store {
				if !c.postgres {
					db, err := store.Open(filepath.Join(b.TempDir(), "cla.db"))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = db.Close() })
					return db
				}
				return nil
			}
			pgURL := ""
			if c.postgres {
				pgURL = pgtest.FreshURL(b)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			for r := 0; r < c.replicas; r++ {
				st := open()
				if c.postgres {
					db, err := pgstore.Open(ctx, pgURL, pgstore.Options{Logger: quiet})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = db.Close() })
					st = db
					svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
					go func() { _ = db.Listen(ctx, 5*time.Second, svc.ChangedElsewhere, func() { svc.ChangedElsewhere("") }) }()
					svcs = append(svcs, svc)
				} else {
					svcs = append(svcs, jobs.NewService(st, jobs.NewBroker(), jobs.Options{}))
				}
				api := web.New(web.Config{Service: svcs[r], Keyring: web.NewKeyring(testIdentities()), Logger: quiet})
				srv := httptest.NewServer(api)
				b.Cleanup(func() { api.Stop(); srv.Close() })
				urls = append(urls, srv.URL)
			}
			completeOn(b, svcs[0], urls)
		})
	}
}

// completeOn creates b.N jobs with an open action gate, then completes
// them from 64 clients spread over urls and reports ops/s and latencies.
func completeOn(b *testing.B, svc *jobs.Service, urls []string) {
	const clients = 64
	ids := make([]string, b.N)
	parallel(clients, b.N, func(i int) {
		ids[i] = fmt.Sprintf("bench-%d", i)
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "step"}
		if _, err := svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI,
			jobs.NewJob{ID: ids[i], Name: "bench", Gate: &cfg}); err != nil {
			b.Error(err)
		}
	})
	if b.Failed() {
		return
	}
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	body := []byte(`{"status":"successful","message":"done"}`)
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	parallel(clients, b.N, func(i int) {
		req, _ := http.NewRequest("POST", urls[i%len(urls)]+"/v1/jobs/"+ids[i]+"/complete", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokAlice)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			failed.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat[i] = time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			failed.Add(1)
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d completions failed", n)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// BenchmarkServer_Complete measures completions per second through the HTTP
// API on loopback with 64 concurrent clients, each completion on its own
// pre-created job with an open action gate. It reports ops/s and the p50
// and p99 latency of one completion.
//
//	go test -run '^$' -bench Server_Complete -benchtime 20000x ./web
func BenchmarkServer_Complete(b *testing.B) {
	const clients = 64
	f := newFixture(b)
	ids := make([]string, b.N)
	parallel(clients, b.N, func(i int) {
		ids[i] = fmt.Sprintf("bench-%d", i)
		// Seeded as an admin: limits.gatesPerMinute does not apply.
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "step"}
		if _, err := f.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci", Admin: true}, jobs.ViaAPI,
			jobs.NewJob{ID: ids[i], Name: "bench", Gate: &cfg}); err != nil {
			b.Fatal(err)
		}
	})
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	body := []byte(`{"status":"successful","message":"done"}`)
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	parallel(clients, b.N, func(i int) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/jobs/"+ids[i]+"/complete", bytes.NewReader(body))
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

// parallel runs fn(0..n-1) on `workers` goroutines.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// BenchmarkDB_AppendLog measures durable log appends per second with many
// concurrent writers sharing commits (group commit), one entry per call as
// mirrored chat messages arrive.
func BenchmarkDB_AppendLog(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			db := open(b)
			if err := db.CreateJob(ctx, newJob("bench", time.Now(), jobs.StatusInProgress), jobs.Effects{}); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(max(1, writers/2))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					entry := jobs.LogEntry{Kind: jobs.LogMessage, Actor: "alice", Text: "a mirrored message", Key: fmt.Sprint(i)}
					if _, err := db.AppendLog(ctx, "bench", []jobs.LogEntry{entry}, 0); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
		})
	}
}

package perf

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkBacklog measures mirrored messages per second and the p99 of
// HTTP completions on two whole servers side by side: one with an empty
// outbox, one with 100,000 notifications pending behind a dead webhook
// (503). Every completion enqueues a notification, so the outbox worker
// runs passes throughout. Rounds alternate between the two so that load
// from elsewhere falls on both alike. It reports each figure and the
// ratio backlog/empty (1.0 = no cost from the backlog).
//
//	go test -run '^$' -bench Backlog -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkBacklog(b *testing.B) {
	const (
		backlog     = 100_000
		rounds      = 3
		messages    = 2000 // per round
		completions = 2000 // per round
	)
	empty, full := newStack(b), newStack(b)
	full.backlog(backlog)
	type result struct {
		msgs    int
		mirror  time.Duration
		lat     []time.Duration
		ids     []string
		pending int
	}
	res := map[*stack]*result{empty: {}, full: {}}
	for s, r := range res {
		r.pending = s.pending()
		r.ids = s.completable("done", rounds*completions, r.pending)
	}
	b.ResetTimer()
	for range b.N {
		for round := range rounds {
			for _, s := range []*stack{empty, full} {
				r := res[s]
				r.mirror += s.mirror(messages)
				r.msgs += messages
				lat, _ := s.complete(r.ids[round*completions : (round+1)*completions])
				r.lat = append(r.lat, lat...)
			}
		}
	}
	b.StopTimer()
	if got := full.pending(); got < backlog {
		b.Fatalf("the backlog drained (%d pending): the dead webhook answered", got)
	}
	for _, r := range res {
		slices.Sort(r.lat)
	}
	e, f := res[empty], res[full]
	rate := func(r *result) float64 { return float64(r.msgs) / r.mirror.Seconds() }
	b.ReportMetric(rate(e), "msgs/s-empty")
	b.ReportMetric(rate(f), "msgs/s-100k")
	b.ReportMetric(rate(f)/rate(e), "msgs-ratio")
	b.ReportMetric(ms(quantile(e.lat, 0.99)), "p99-ms-empty")
	b.ReportMetric(ms(quantile(f.lat, 0.99)), "p99-ms-100k")
	b.ReportMetric(ms(quantile(f.lat, 0.99))/ms(quantile(e.lat, 0.99)), "p99-ratio")
	b.Logf("backlog pending at the end: %d", full.pending())
}

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
// runs passes throughout. The two are measured in interleaved rounds (the
// one that goes first alternates), and each round yields the ratios
// backlog/empty of the two figures, measured within seconds of each
// other; the benchmark reports the median over the rounds of each ratio
// (1.0 = no cost from the backlog), so that load from elsewhere, which
// comes and goes, falls on both alike or on one round only. The whole-run
// figures of each server are reported too.
//
//	go test -run '^$' -bench Backlog -benchtime 1x -timeout 30m ./internal/perf
func BenchmarkBacklog(b *testing.B) {
	const (
		backlog     = 100_000
		rounds      = 21
		messages    = 1000 // per round and server
		completions = 1000 // per round and server
	)
	empty, full := newStack(b), newStack(b)
	full.backlog(backlog)
	type result struct {
		msgs   int
		mirror time.Duration
		lat    []time.Duration
		ids    []string
		rate   []float64       // messages/s per round
		p99    []time.Duration // completion p99 per round
	}
	res := map[*stack]*result{empty: {}, full: {}}
	for s, r := range res {
		r.ids = s.completable("done", rounds*completions, s.pending())
	}
	b.ResetTimer()
	for range b.N {
		for round := range rounds {
			order := []*stack{empty, full}
			if round%2 == 1 {
				order = []*stack{full, empty}
			}
			for _, s := range order {
				r := res[s]
				d := s.mirror(messages)
				r.mirror += d
				r.msgs += messages
				r.rate = append(r.rate, float64(messages)/d.Seconds())
				lat, _ := s.complete(r.ids[round*completions : (round+1)*completions])
				r.lat = append(r.lat, lat...)
				r.p99 = append(r.p99, quantile(lat, 0.99))
			}
		}
	}
	b.StopTimer()
	if got := full.pending(); got < backlog {
		b.Fatalf("the backlog drained (%d pending): the dead webhook answered", got)
	}
	e, f := res[empty], res[full]
	var rateRatios, p99Ratios []float64
	for i := range e.rate {
		rateRatios = append(rateRatios, f.rate[i]/e.rate[i])
		p99Ratios = append(p99Ratios, ms(f.p99[i])/ms(e.p99[i]))
	}
	for _, r := range res {
		slices.Sort(r.lat)
	}
	rate := func(r *result) float64 { return float64(r.msgs) / r.mirror.Seconds() }
	b.ReportMetric(rate(e), "msgs/s-empty")
	b.ReportMetric(rate(f), "msgs/s-100k")
	b.ReportMetric(median(rateRatios), "msgs-ratio-median")
	b.ReportMetric(ms(quantile(e.lat, 0.99)), "p99-ms-empty")
	b.ReportMetric(ms(quantile(f.lat, 0.99)), "p99-ms-100k")
	b.ReportMetric(median(p99Ratios), "p99-ratio-median")
	b.Logf("per-round ratios backlog/empty: messages/s %.2f; completion p99 %.2f", rateRatios, p99Ratios)
	b.Logf("backlog pending at the end: %d", full.pending())
}

// median is the middle value (the mean of the two middle values for an
// even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
)

// newRegistry is the one metrics registry of a server: the Go runtime and
// process collectors, and the events the broker could not deliver. Each
// component registers its own metrics in it (NewMetrics(reg)); GET /metrics
// serves it.
func newRegistry(broker *jobs.Broker) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The broker's subscribers (the Slack announcer, the App Home
	// refresher, the relay, the sandbox demo) are told to resync when
	// they miss an event; each miss is counted here.
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_events_dropped_total",
		Help: "Events a subscriber fell too far behind to receive; it was told to resync."}, []string{"subscriber"})
	reg.MustRegister(dropped)
	broker.OnDrop(func(subscriber string) { dropped.WithLabelValues(subscriber).Inc() })
	return reg
}

// registerStoreMetrics serves the bbolt store's group-commit counters:
// changes per commit is commit_changes ÷ commits, the writer's load is the
// rate of commit_seconds (1 = always writing).
func registerStoreMetrics(reg prometheus.Registerer, db *store.DB) {
	counter := func(name, help string, value func(store.CommitStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return value(db.CommitStats()) })
	}
	reg.MustRegister(
		counter("cla_store_commits_total", "Write transactions the store's group commit committed.",
			func(s store.CommitStats) float64 { return float64(s.Commits) }),
		counter("cla_store_commit_changes_total", "Changes those transactions carried (each shares its commit's fsync).",
			func(s store.CommitStats) float64 { return float64(s.Changes) }),
		counter("cla_store_pages_written_total", "Page writes of all write transactions (one per page, or per run of overflow pages).",
			func(s store.CommitStats) float64 { return float64(s.PagesWritten) }),
		counter("cla_store_commit_seconds_total", "Time the one writer spent in transactions, their commit included.",
			func(s store.CommitStats) float64 { return s.Busy.Seconds() }),
		counter("cla_store_write_seconds_total", "Of that time, writing and syncing pages.",
			func(s store.CommitStats) float64 { return s.Write.Seconds() }),
	)
}

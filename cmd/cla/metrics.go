package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

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

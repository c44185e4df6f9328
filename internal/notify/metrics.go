package notify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the outbox's metrics, by channel type only: targets
// (addresses, URLs) may be secret and are unbounded, so they never become
// labels. Build them once per registry with NewMetrics and give them to the
// Outbox with SetMetrics.
type Metrics struct {
	sent, failures, dropped *prometheus.CounterVec
	pending                 prometheus.Gauge
}

// NewMetrics creates the outbox metrics and registers them with reg (nil
// registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_notifications_sent_total",
			Help: "Notifications delivered (settled after their notifier succeeded)."}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_notification_failures_total",
			Help: "Failed notification delivery attempts, each retried later."}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_notifications_dropped_total",
			Help: "Notifications given up: permanent errors, unknown jobs."}, []string{"type"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cla_outbox_pending",
			Help: "Notifications waiting in the durable outbox at the last pass (due or deferred)."}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failures, m.dropped, m.pending)
	}
	return m
}

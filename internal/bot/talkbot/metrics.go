package talkbot

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts TalkBack requests from Slack by outcome. Build it once per
// registry with NewMetrics and pass it in Config.Metrics.
type Metrics struct {
	requests *prometheus.CounterVec
}

// NewMetrics creates TalkBot's metrics and registers them with reg (nil
// registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_talkback_requests_total",
		Help: "TalkBack requests from Slack by outcome (refused, listed, pending, run, failed)."}, []string{"outcome"})}
	if reg != nil {
		reg.MustRegister(m.requests)
	}
	return m
}

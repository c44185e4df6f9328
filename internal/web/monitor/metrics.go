package monitor

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the monitor's metrics. Labels carry only fixed words, never
// identities or tokens. Build them once per registry with NewMetrics and
// pass them in Config.Metrics.
type Metrics struct {
	streams prometheus.Gauge
	actions *prometheus.CounterVec
	signIns *prometheus.CounterVec
}

// NewMetrics creates the monitor's metrics and registers them with reg
// (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cla_web_monitor_streams",
			Help: "Open live-update streams (SSE) of job pages."}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_web_monitor_actions_total",
			Help: "Gate actions, checklist ticks and notes submitted in the web monitor, by result."}, []string{"action", "result"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_web_monitor_sign_ins_total",
			Help: "Sign-in attempts in the web monitor, by method (token, link) and result."}, []string{"method", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.streams, m.actions, m.signIns)
	}
	return m
}

// result names the outcome of an action for the metrics.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	return "refused"
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "refused"
}

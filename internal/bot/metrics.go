package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Slack adapter's metrics. Labels carry request kinds only,
// never ids, tokens or text. Build them once per registry with NewMetrics
// and pass them in Config.Metrics.
type Metrics struct {
	envelopes     *prometheus.CounterVec
	ack           *prometheus.HistogramVec
	mirrored      prometheus.Counter
	connects      prometheus.Counter
	handlerErrors prometheus.Counter
}

// NewMetrics creates the bot's metrics and registers them with reg (nil
// registers nothing: the metrics still count, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cla_slack_envelopes_total",
			Help: "Socket Mode envelopes received, by kind."}, []string{"kind"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cla_slack_ack_seconds",
			Help:    "Time from receiving an envelope to acking it, by kind (messages include the durable append).",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 3}}, []string{"kind"}),
		mirrored: prometheus.NewCounter(prometheus.CounterOpts{Name: "cla_slack_mirrored_total",
			Help: "Slack messages, edits and deletes appended to job logs (redeliveries excluded)."}),
		connects: prometheus.NewCounter(prometheus.CounterOpts{Name: "cla_slack_connects_total",
			Help: "Socket Mode connections established."}),
		handlerErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "cla_slack_handler_errors_total",
			Help: "Mention commands answered with an internal error or handlers that panicked."}),
	}
	if reg != nil {
		reg.MustRegister(m.envelopes, m.ack, m.mirrored, m.connects, m.handlerErrors)
	}
	return m
}

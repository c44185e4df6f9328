package monitor

import "github.com/cla-ops/cla/internal/metrics"

// The monitor's metrics. Labels carry only fixed words, never identities
// or tokens.
var (
	metricStreams = metrics.NewGauge("cla_web_monitor_streams",
		"Open live-update streams (SSE) of job pages.")
	metricActions = metrics.NewCounter("cla_web_monitor_actions_total",
		"Gate actions, checklist ticks and notes submitted in the web monitor, by result.", "action", "result")
	metricSignIns = metrics.NewCounter("cla_web_monitor_sign_ins_total",
		"Sign-in attempts in the web monitor, by method (token, link) and result.", "method", "result")
)

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

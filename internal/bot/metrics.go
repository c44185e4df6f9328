package bot

import "github.com/cla-ops/cla/internal/metrics"

// Slack adapter metrics. Labels carry request kinds only, never ids,
// tokens or text.
var (
	envelopesTotal = metrics.NewCounter("cla_slack_envelopes_total",
		"Socket Mode envelopes received, by kind.", "kind")
	ackSeconds = metrics.NewHistogram("cla_slack_ack_seconds",
		"Time from receiving an envelope to acking it, by kind (messages include the durable append).",
		[]float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 3}, "kind")
	mirroredTotal = metrics.NewCounter("cla_slack_mirrored_total",
		"Slack messages, edits and deletes appended to job logs (redeliveries excluded).")
	connectsTotal = metrics.NewCounter("cla_slack_connects_total",
		"Socket Mode connections established.")
	handlerErrorsTotal = metrics.NewCounter("cla_slack_handler_errors_total",
		"Mention commands answered with an internal error or handlers that panicked.")
)

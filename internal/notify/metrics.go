package notify

import "github.com/cla-ops/cla/internal/metrics"

// Outbox metrics, by channel type only: targets (addresses, URLs) may be
// secret and are unbounded, so they never become labels.
var (
	sentTotal = metrics.NewCounter("cla_notifications_sent_total",
		"Notifications delivered (settled after their notifier succeeded).", "type")
	failuresTotal = metrics.NewCounter("cla_notification_failures_total",
		"Failed notification delivery attempts, each retried later.", "type")
	droppedTotal = metrics.NewCounter("cla_notifications_dropped_total",
		"Notifications given up: permanent errors, unknown jobs.", "type")
	pendingGauge = metrics.NewGauge("cla_outbox_pending",
		"Notifications waiting in the durable outbox at the last pass (due or deferred).")
)

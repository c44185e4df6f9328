package notify

import "github.com/cla-ops/cla/jobs"

// lane is one ordered delivery queue: a channel type and target (see
// jobs.Notification.Lane). A failing notification blocks the later ones of
// its lane and nothing else.
type lane struct {
	key   string
	items []jobs.Notification
}

// laneKey names the lane of a notification.
func laneKey(n jobs.Notification) string { return n.Lane() }

package jobs

import "time"

// Lane names the ordered delivery queue of a notification: its channel
// type and target. A failing notification blocks the later ones of its
// lane and nothing else. One without a target (Slack's gate_resolved fans
// out to every message of the gate) gets a lane per job, so that one job's
// trouble never holds another's.
func (n Notification) Lane() string {
	if t := n.Channel.Target(); t != "" {
		return string(n.Channel.Type) + "\x00" + t
	}
	return string(n.Channel.Type) + "\x00job:" + n.JobID
}

// OutboxQuery asks the store for the outbox work due at a time.
type OutboxQuery struct {
	// At is the time work must be due by.
	At time.Time
	// MaxLanes caps the lanes returned; PerLane caps the notifications
	// of one lane. Zero means 16 and 64.
	MaxLanes, PerLane int
	// Skip, if set, names lanes to leave out (a delivery is running).
	Skip func(lane string) bool
}

// OutboxLane is the leading due notifications of one lane, oldest first.
type OutboxLane struct {
	Key   string
	Items []Notification
}

// OutboxWork is what one outbox pass may deliver.
type OutboxWork struct {
	// Lanes whose head is due, earliest due first.
	Lanes []OutboxLane
	// Next is the earliest due time of a lane head not due at At (zero
	// if none): when the worker should look again.
	Next time.Time
	// Pending counts every notification not settled yet (for the
	// cla_outbox_pending gauge). A store that can only count by reading
	// its pending index may answer from a count some seconds old.
	Pending int
}

// Limits returns the query with its defaults filled in.
func (q OutboxQuery) Limits() (maxLanes, perLane int) {
	maxLanes, perLane = q.MaxLanes, q.PerLane
	if maxLanes <= 0 {
		maxLanes = 16
	}
	if perLane <= 0 {
		perLane = 64
	}
	return maxLanes, perLane
}

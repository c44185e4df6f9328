package notify

import (
	"time"

	"github.com/cla-ops/cla/jobs"
)

// lane is one ordered delivery queue: a channel type and target. A failing
// notification blocks the later ones of its lane and nothing else.
type lane struct {
	key   string
	items []jobs.Notification
}

// laneKey names the lane of a notification. One without a target (Slack's
// gate_resolved fans out to every message of the gate) gets a lane per job
// so that one job's trouble never holds another's.
func laneKey(n jobs.Notification) string {
	if t := n.Channel.Target(); t != "" {
		return string(n.Channel.Type) + "\x00" + t
	}
	return string(n.Channel.Type) + "\x00job:" + n.JobID
}

// plan decides what one pass delivers. pending is every pending
// notification, oldest first (creation order, as the store keeps it).
// Each lane gets its leading due notifications; a lane stops at its first
// one not due yet, and a busy lane (a delivery still running) is skipped.
// A targetless notification also waits behind every older pending one of
// the same type and job, so "resolved" never overtakes "opened". It
// returns the lanes in order of their oldest notification and the
// earliest time a stopped lane becomes due (zero if none).
func plan(pending []jobs.Notification, now time.Time, busy func(key string) bool) ([]lane, time.Time) {
	var lanes []lane
	index := map[string]int{}    // lane key → position in lanes
	stopped := map[string]bool{} // lane key → nothing more this pass
	older := map[string]bool{}   // type+job → has an older targeted notification pending
	var next time.Time
	for _, n := range pending {
		key, scope := laneKey(n), string(n.Channel.Type)+"\x00"+n.JobID
		switch {
		case stopped[key]:
		case busy(key), n.Channel.Target() == "" && older[scope]:
			stopped[key] = true
		case n.DueAt.After(now):
			stopped[key] = true
			if next.IsZero() || n.DueAt.Before(next) {
				next = n.DueAt
			}
		default:
			i, ok := index[key]
			if !ok {
				i = len(lanes)
				index[key] = i
				lanes = append(lanes, lane{key: key})
			}
			lanes[i].items = append(lanes[i].items, n)
		}
		if n.Channel.Target() != "" {
			older[scope] = true
		}
	}
	return lanes, next
}

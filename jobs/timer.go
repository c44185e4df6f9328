package jobs

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// NextWake is the earliest instant at which one of the gate's timers
// (timeout, next reminder, next escalation tier) is due; zero if none.
func (g *Gate) NextWake() time.Time {
	if g.State != GateOpen {
		return time.Time{}
	}
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if g.Deadline != nil {
		consider(*g.Deadline)
	}
	if g.NextReminderAt != nil {
		consider(*g.NextReminderAt)
	}
	if at, ok := g.nextEscalationAt(); ok {
		consider(at)
	}
	return next
}

func (g *Gate) nextEscalationAt() (time.Time, bool) {
	if g.EscalationsDone >= len(g.Escalation) {
		return time.Time{}, false
	}
	d, err := ParseDuration(g.Escalation[g.EscalationsDone].After)
	if err != nil {
		return time.Time{}, false
	}
	return g.OpenedAt.Add(d), true
}

// reminderAfter computes the first reminder strictly after t, or nil when
// no more reminders are due.
func (g *Gate) reminderAfter(t time.Time) (*time.Time, error) {
	r := g.Reminder
	if r == nil || g.RemindersSent >= r.MaxReminders {
		return nil, nil
	}
	var next time.Time
	switch {
	case r.Cron != "":
		sched, err := parseCron(r.Cron, r.Timezone)
		if err != nil {
			return nil, err
		}
		next = sched.Next(t)
	case r.Interval != "":
		d, err := ParseDuration(r.Interval)
		if err != nil {
			return nil, fmt.Errorf("reminder interval: %w", err)
		}
		next = t.Add(d)
	default:
		return nil, nil
	}
	if next.IsZero() {
		return nil, nil
	}
	return &next, nil
}

func parseCron(spec, zone string) (cron.Schedule, error) {
	if zone != "" {
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("reminder timezone %q: %w", zone, err)
		}
		spec = "CRON_TZ=" + zone + " " + spec
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("reminder cron %q: %w", spec, err)
	}
	return sched, nil
}

// TimerFiring says what a due timer did to a gate.
type TimerFiring struct {
	TimedOut    bool
	Reminded    bool
	Escalations []Escalation
}

// fire advances the gate's timers to now. Whatever was missed while the
// server was down fires once: a passed deadline times the gate out, a
// reminder is sent once and the next one counted from now, each passed
// escalation tier fires once.
func (g *Gate) fire(now time.Time) (TimerFiring, error) {
	var f TimerFiring
	if g.State != GateOpen {
		return f, nil
	}
	if g.Deadline != nil && !now.Before(*g.Deadline) {
		f.TimedOut = true
		return f, nil
	}
	for {
		at, ok := g.nextEscalationAt()
		if !ok || now.Before(at) {
			break
		}
		f.Escalations = append(f.Escalations, g.Escalation[g.EscalationsDone])
		g.EscalationsDone++
	}
	if g.NextReminderAt != nil && !now.Before(*g.NextReminderAt) {
		f.Reminded = true
		g.RemindersSent++
		next, err := g.reminderAfter(now)
		if err != nil {
			return f, err
		}
		g.NextReminderAt = next
	}
	return f, nil
}

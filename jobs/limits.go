package jobs

import (
	"fmt"
	"sync"
	"time"
)

// Limits bound what one gate may ask of the server and its relays (issue
// 17: reminder floods, notification starvation). Zero fields are the
// defaults; the config's `limits:` section sets them.
type Limits struct {
	// MinReminderInterval is the shortest reminder interval (and the
	// shortest gap of a reminder cron); 1m by default.
	MinReminderInterval time.Duration
	// MaxReminders caps the reminders of one gate; 100 by default. A gate
	// that sets no maxReminders gets this many at most.
	MaxReminders int
	// MaxEscalations caps the escalation tiers of one gate; 10 by default.
	MaxEscalations int
	// MaxChannels caps the notification channels of one gate, its
	// escalation tiers' included; 20 by default.
	MaxChannels int
	// GatesPerMinute caps the gates one identity may open per minute;
	// 30 by default. Admins and cla itself are exempt.
	GatesPerMinute int
	// MaxAssignees caps the assignees of one gate, its escalation tiers'
	// included (and of a reassignment); 100 by default. Each one may cost
	// a Slack call when the gate is checked and announced.
	MaxAssignees int
	// MaxChecklistItems caps the checklist of one gate; 300 by default,
	// as many as a Slack message shows. Every page view, announcement and
	// resolution walks the whole list.
	MaxChecklistItems int
}

// Limit defaults.
const (
	DefaultMinReminderInterval = time.Minute
	DefaultMaxReminders        = 100
	DefaultMaxEscalations      = 10
	DefaultMaxChannels         = 20
	DefaultGatesPerMinute      = 30
	DefaultMaxAssignees        = 100
	DefaultMaxChecklistItems   = 300
)

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MinReminderInterval <= 0 {
		l.MinReminderInterval = DefaultMinReminderInterval
	}
	if l.MaxReminders <= 0 {
		l.MaxReminders = DefaultMaxReminders
	}
	if l.MaxEscalations <= 0 {
		l.MaxEscalations = DefaultMaxEscalations
	}
	if l.MaxChannels <= 0 {
		l.MaxChannels = DefaultMaxChannels
	}
	if l.GatesPerMinute <= 0 {
		l.GatesPerMinute = DefaultGatesPerMinute
	}
	if l.MaxAssignees <= 0 {
		l.MaxAssignees = DefaultMaxAssignees
	}
	if l.MaxChecklistItems <= 0 {
		l.MaxChecklistItems = DefaultMaxChecklistItems
	}
	return l
}

// ERATELIMIT is the code of a refusal that a later retry may pass (HTTP
// 429).
const ERATELIMIT = "rate_limited"

// applyLimits refuses a gate config beyond the limits (an EINVALID naming
// the limit) and bounds an unbounded reminder. It changes only cfg, which
// the caller owns.
func (l Limits) applyLimits(cfg *GateConfig, now time.Time) error {
	if r := cfg.Reminder; r != nil {
		if err := l.checkReminder(r, now); err != nil {
			return err
		}
		// maxReminders omitted is 0, no reminders (ctrlplane's RFC), so no
		// reminder is unbounded: every one is within limits.maxReminders.
		rc := *r
		cfg.Reminder = &rc
	}
	if n := len(cfg.Checklist); n > l.MaxChecklistItems {
		return Errorf(EINVALID, "%d checklist items exceed limits.maxChecklistItems (%d)", n, l.MaxChecklistItems)
	}
	if n := len(cfg.Escalation); n > l.MaxEscalations {
		return Errorf(EINVALID, "%d escalation tiers exceed limits.maxEscalations (%d)", n, l.MaxEscalations)
	}
	n := len(cfg.Channels)
	for _, e := range cfg.Escalation {
		n += len(e.Channels)
	}
	if n > l.MaxChannels {
		return Errorf(EINVALID, "%d notification channels exceed limits.maxChannels (%d per gate)", n, l.MaxChannels)
	}
	return nil
}

// checkAssigneeCount refuses more than MaxAssignees assignees (a gate's
// own and its escalation tiers'), before any of them is looked up.
func (l Limits) checkAssigneeCount(field string, assignees []string, tiers []Escalation) error {
	n := len(assignees)
	for _, e := range tiers {
		n += len(e.Assignees)
	}
	if n > l.MaxAssignees {
		return Errorf(EINVALID, "%d %s exceed limits.maxAssignees (%d per gate, escalation tiers included); name a group instead", n, field, l.MaxAssignees)
	}
	return nil
}

func (l Limits) checkReminder(r *Reminder, now time.Time) error {
	if r.MaxReminders > l.MaxReminders {
		return Errorf(EINVALID, "reminder.maxReminders %d exceeds limits.maxReminders (%d)", r.MaxReminders, l.MaxReminders)
	}
	if r.Interval != "" {
		d, err := ParseDuration(r.Interval)
		if err == nil && d < l.MinReminderInterval {
			return Errorf(EINVALID, "reminder.interval %s is shorter than limits.minReminderInterval (%s)", r.Interval, l.MinReminderInterval)
		}
	}
	if r.Cron != "" {
		sched, err := parseCron(r.Cron, r.Timezone)
		if err != nil {
			return nil // Validate reports it
		}
		// The shortest gap of a cron shows within a day of fires.
		t := sched.Next(now)
		for i := 0; i < 1440 && !t.IsZero(); i++ {
			next := sched.Next(t)
			if !next.IsZero() && next.Sub(t) < l.MinReminderInterval {
				return Errorf(EINVALID, "reminder.cron %q fires more often than limits.minReminderInterval (%s)", r.Cron, l.MinReminderInterval)
			}
			t = next
		}
	}
	return nil
}

// gateRate counts the gates each identity opened in the last minute.
type gateRate struct {
	mu     sync.Mutex
	opened map[string][]time.Time
}

// allow records a gate opened by actor at now, or refuses it when the
// identity has opened perMinute gates in the minute before.
func (r *gateRate) allow(actor Identity, perMinute int, now time.Time) error {
	if actor.Admin || actor.Name == System.Name {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opened == nil {
		r.opened = map[string][]time.Time{}
	}
	recent := r.opened[actor.Name][:0]
	for _, t := range r.opened[actor.Name] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= perMinute {
		r.opened[actor.Name] = recent
		return Errorf(ERATELIMIT, "%s opened %d gates in the last minute; limits.gatesPerMinute is %d, try again in %s",
			actor.Name, len(recent), perMinute, (time.Minute - now.Sub(recent[0])).Round(time.Second))
	}
	r.opened[actor.Name] = append(recent, now)
	if len(r.opened) > 10000 { // forget idle identities
		for name, ts := range r.opened {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= time.Minute {
				delete(r.opened, name)
			}
		}
	}
	return nil
}

// checkGate applies the limits to a gate about to be opened by actor.
func (s *Service) checkGate(actor Identity, cfg *GateConfig) error {
	now := s.Now()
	if err := s.limits.applyLimits(cfg, now); err != nil {
		return err
	}
	if err := s.rate.allow(actor, s.limits.GatesPerMinute, now); err != nil {
		return fmt.Errorf("open gate: %w", err)
	}
	return nil
}

package notify

import (
	"net/url"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// Budget bounds the deliveries of one channel type running at once: in
// all, and to any one target (a webhook's host, the SMTP server, a Slack
// channel). Zero fields mean the type's default.
type Budget struct {
	Total     int
	PerTarget int
}

// Budgets give each channel type its own concurrency, so that one kind of
// target that hangs (160 webhook URLs that never answer) holds only its
// own slots, never email's or Slack's; and within a type, one target
// holds only its own share.
type Budgets struct {
	Webhook Budget // default 8 in all, 2 per host
	Email   Budget // default 4 in all, 4 per SMTP server (there is one)
	Slack   Budget // default 16 in all, 1 per channel (a lane is a channel)
	// Other is the budget of any other channel type; default 2 and 1.
	Other Budget
}

// Budget defaults.
var defaultBudgets = Budgets{
	Webhook: Budget{Total: 8, PerTarget: 2},
	Email:   Budget{Total: 4, PerTarget: 4},
	Slack:   Budget{Total: 16, PerTarget: 1},
	Other:   Budget{Total: 2, PerTarget: 1},
}

// DefaultBudgets returns the default budgets.
func DefaultBudgets() Budgets { return defaultBudgets }

// WithDefaults fills zero fields with the defaults; a per-target budget
// never exceeds its type's total.
func (b Budgets) WithDefaults() Budgets {
	fill := func(x, d Budget) Budget {
		if x.Total <= 0 {
			x.Total = d.Total
		}
		if x.PerTarget <= 0 {
			x.PerTarget = min(d.PerTarget, x.Total)
		}
		x.PerTarget = min(x.PerTarget, x.Total)
		return x
	}
	return Budgets{Webhook: fill(b.Webhook, defaultBudgets.Webhook), Email: fill(b.Email, defaultBudgets.Email),
		Slack: fill(b.Slack, defaultBudgets.Slack), Other: fill(b.Other, defaultBudgets.Other)}
}

// total is how many deliveries may run at once, all types together.
func (b Budgets) total() int { return b.Webhook.Total + b.Email.Total + b.Slack.Total + b.Other.Total }

// of returns the budget of a channel type.
func (b Budgets) of(typ string) Budget {
	switch jobs.ChannelType(typ) {
	case jobs.ChannelWebhook:
		return b.Webhook
	case jobs.ChannelEmail:
		return b.Email
	case jobs.ChannelSlack:
		return b.Slack
	}
	return b.Other
}

// budgetKeys names the type and the target a lane draws from: a webhook
// lane (one URL) draws from its host, every email lane from the one SMTP
// server, a Slack lane from its channel.
func budgetKeys(lane string) (typ, target string) {
	typ, t, _ := strings.Cut(lane, "\x00")
	switch jobs.ChannelType(typ) {
	case jobs.ChannelWebhook:
		if u, err := url.Parse(t); err == nil && u.Host != "" {
			t = strings.ToLower(u.Hostname())
		}
	case jobs.ChannelEmail:
		t = "smtp"
	}
	return typ, typ + "\x00" + t
}

// slots counts the deliveries running, per lane, type and target.
type slots struct {
	budgets  Budgets
	max      int
	running  int
	busy     map[string]bool
	inType   map[string]int
	inTarget map[string]int
}

func newSlots(b Budgets) slots {
	b = b.WithDefaults()
	return slots{budgets: b, max: b.total(), busy: map[string]bool{}, inType: map[string]int{}, inTarget: map[string]int{}}
}

// take reserves a slot for the lane if it is idle and its type, its
// target and the whole worker have room.
func (s *slots) take(lane string) bool {
	typ, target := budgetKeys(lane)
	b := s.budgets.of(typ)
	if s.busy[lane] || s.running >= s.max || s.inType[typ] >= b.Total || s.inTarget[target] >= b.PerTarget {
		return false
	}
	s.busy[lane] = true
	s.running++
	s.inType[typ]++
	s.inTarget[target]++
	return true
}

// give frees the lane's slot.
func (s *slots) give(lane string) {
	if !s.busy[lane] {
		return
	}
	typ, target := budgetKeys(lane)
	delete(s.busy, lane)
	s.running--
	if s.inType[typ]--; s.inType[typ] == 0 {
		delete(s.inType, typ)
	}
	if s.inTarget[target]--; s.inTarget[target] == 0 {
		delete(s.inTarget, target)
	}
}

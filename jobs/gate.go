package jobs

import (
	"slices"
	"strings"
	"time"
)

// GateKind names the kind of manual step.
type GateKind string

// Gate kinds (SPEC §2).
const (
	KindAction   GateKind = "action"
	KindApproval GateKind = "approval"
	KindPause    GateKind = "pause"
	KindTrap     GateKind = "trap"
)

// article returns the kind with its indefinite article ("an action").
func (k GateKind) article() string {
	if k == KindAction || k == KindApproval {
		return "an " + string(k)
	}
	return "a " + string(k)
}

// GateState says whether a gate still waits for someone.
type GateState string

// Gate states.
const (
	GateOpen   GateState = "open"
	GateClosed GateState = "closed"
)

// Outcome is how a gate ended.
type Outcome string

// Gate outcomes.
const (
	OutcomeSuccessful Outcome = "successful"
	OutcomeFailure    Outcome = "failure"
	OutcomeApproved   Outcome = "approved"
	OutcomeRejected   Outcome = "rejected"
	OutcomeResumed    Outcome = "resumed"
	OutcomeRetry      Outcome = "retry"
	OutcomeSkip       Outcome = "skip"
	OutcomeAbort      Outcome = "abort"
	OutcomeTimedOut   Outcome = "timed_out"
	OutcomeCancelled  Outcome = "cancelled"
)

// Doors through which a gate can be resolved (resolvedVia).
const (
	ViaSlack   = "slack"
	ViaAPI     = "api"
	ViaCLI     = "cli"
	ViaWeb     = "web"
	ViaWebhook = "webhook"
	ViaTimeout = "timeout"
)

// Gate is one manual step of a job: its configuration plus its live state.
type Gate struct {
	ID string `json:"id"`
	GateConfig
	State       GateState  `json:"state"`
	Outcome     *Outcome   `json:"outcome"`
	OpenedAt    time.Time  `json:"openedAt"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	Approvals   []Vote     `json:"approvals"`
	Ticks       []Tick     `json:"ticks,omitempty"`
	ResolvedBy  *string    `json:"resolvedBy"`
	ResolvedVia *string    `json:"resolvedVia"`
	ResolvedAt  *time.Time `json:"resolvedAt"`
	Message     *string    `json:"message"`
	Evidence    *Evidence  `json:"evidence"`
	// BreakGlass records an admin's emergency override, if any.
	BreakGlass *BreakGlassRecord `json:"breakGlass,omitempty"`
	// Timers and notification bookkeeping, stored with the gate so that they
	// survive restarts.
	NextReminderAt  *time.Time   `json:"nextReminderAt,omitempty"`
	RemindersSent   int          `json:"remindersSent,omitempty"`
	EscalationsDone int          `json:"escalationsDone,omitempty"`
	Messages        []MessageRef `json:"messages,omitempty"`
}

// Vote is one approval of an approval gate.
type Vote struct {
	By      string    `json:"by"`
	Via     string    `json:"via"`
	At      time.Time `json:"at"`
	Message string    `json:"message,omitempty"`
}

// Tick records a checklist item ticked (or unticked) by someone.
type Tick struct {
	Item    int       `json:"item"`
	Checked bool      `json:"checked"`
	By      string    `json:"by"`
	Via     string    `json:"via"`
	At      time.Time `json:"at"`
}

// Evidence is what a person attaches when completing a manual action.
type Evidence struct {
	Message string `json:"message,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Empty reports whether the evidence says nothing.
func (e *Evidence) Empty() bool {
	return e == nil || (strings.TrimSpace(e.Message) == "" && strings.TrimSpace(e.URL) == "")
}

// MessageRef is a chat message that announced a gate, kept so that it can
// be updated whichever door resolves the gate, even after a restart.
type MessageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// GateConfig is what the opener of a gate says about it (SPEC §2): a superset
// of ctrlplane's manual-action agent config.
type GateConfig struct {
	// Type is ctrlplane's job agent type: "manual-action" means kind
	// action. Validate turns it into Kind (see AgentTypes).
	Type            string          `json:"type,omitempty"`
	Kind            GateKind        `json:"kind"`
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	Assignees       []string        `json:"assignees"`
	Channels        []NotifyChannel `json:"channels,omitempty"`
	Timeout         string          `json:"timeout,omitempty"`
	RequireEvidence bool            `json:"requireEvidence"`
	Reminder        *Reminder       `json:"reminder,omitempty"`
	Escalation      []Escalation    `json:"escalation,omitempty"`
	Checklist       []string        `json:"checklist,omitempty"`
	AllowPartial    bool            `json:"allowPartialChecklist,omitempty"`
	// AllowUnknownAssignees keeps a gate whose assignees match nobody the
	// server knows (teams whose members are not all configured).
	AllowUnknownAssignees bool `json:"allowUnknownAssignees,omitempty"`
	Required              int  `json:"required,omitempty"`
	AllowSelfApproval     bool `json:"allowSelfApproval,omitempty"`
	ContinueOnFailure     bool `json:"continueOnFailure,omitempty"`
	CompletesJob          bool `json:"completesJob,omitempty"`
}

// ChannelType names the medium of a NotifyChannel; each has one Notifier.
type ChannelType string

// Notification channel types (SPEC §2).
const (
	ChannelSlack   ChannelType = "slack"
	ChannelEmail   ChannelType = "email"
	ChannelWebhook ChannelType = "webhook"
)

// NotifyChannel is where a gate's notifications go. ChannelID is the
// address for every type, as in ctrlplane's config (a Slack channel id, an
// email address, a webhook URL); To and URL are synonyms kept for email and
// webhook.
type NotifyChannel struct {
	Type      ChannelType `json:"type"`
	ChannelID string      `json:"channelId,omitempty"`
	To        string      `json:"to,omitempty"`
	URL       string      `json:"url,omitempty"`
}

// Target is the address of the channel, whatever its type: To for email
// and URL for webhook when given, else ChannelID.
func (c NotifyChannel) Target() string {
	switch {
	case c.Type == ChannelEmail && c.To != "":
		return c.To
	case c.Type == ChannelWebhook && c.URL != "":
		return c.URL
	}
	return c.ChannelID
}

// Reminder re-notifies while a gate stays open: every Interval, or at the
// times of a cron expression in Timezone, at most MaxReminders times. As in
// ctrlplane's RFC, MaxReminders omitted (0) means no reminders.
type Reminder struct {
	Interval     string `json:"interval,omitempty"`
	Cron         string `json:"cron,omitempty"`
	Timezone     string `json:"timezone,omitempty"`
	MaxReminders int    `json:"maxReminders,omitempty"`
}

// Escalation is a tier that adds assignees (and channels) when its time,
// counted from the gate's opening, comes.
type Escalation struct {
	After     string          `json:"after"`
	Assignees []string        `json:"assignees,omitempty"`
	Channels  []NotifyChannel `json:"channels,omitempty"`
}

func (g *Gate) clone() *Gate {
	if g == nil {
		return nil
	}
	c := *g
	c.GateConfig = g.GateConfig.clone()
	c.Outcome = clonePtr(g.Outcome)
	c.Deadline = clonePtr(g.Deadline)
	c.Approvals = slices.Clone(g.Approvals)
	c.Ticks = slices.Clone(g.Ticks)
	c.ResolvedBy = clonePtr(g.ResolvedBy)
	c.ResolvedVia = clonePtr(g.ResolvedVia)
	c.ResolvedAt = clonePtr(g.ResolvedAt)
	c.Message = clonePtr(g.Message)
	c.Evidence = clonePtr(g.Evidence)
	c.BreakGlass = clonePtr(g.BreakGlass)
	c.NextReminderAt = clonePtr(g.NextReminderAt)
	c.Messages = slices.Clone(g.Messages)
	return &c
}

// clone copies the config's slices and pointers.
func (gc GateConfig) clone() GateConfig {
	gc.Assignees = slices.Clone(gc.Assignees)
	gc.Channels = slices.Clone(gc.Channels)
	gc.Reminder = clonePtr(gc.Reminder)
	gc.Checklist = slices.Clone(gc.Checklist)
	if gc.Escalation != nil {
		esc := make([]Escalation, len(gc.Escalation))
		for i, e := range gc.Escalation {
			e.Assignees = slices.Clone(e.Assignees)
			e.Channels = slices.Clone(e.Channels)
			esc[i] = e
		}
		gc.Escalation = esc
	}
	return gc
}

// Checked reports whether checklist item i is currently ticked.
func (g *Gate) Checked(i int) bool {
	checked := false
	for _, t := range g.Ticks {
		if t.Item == i {
			checked = t.Checked
		}
	}
	return checked
}

// Unchecked lists the checklist items not ticked yet.
func (g *Gate) Unchecked() []string {
	var out []string
	for i, item := range g.Checklist {
		if !g.Checked(i) {
			out = append(out, item)
		}
	}
	return out
}

// RequiredApprovals is the quorum of an approval gate.
func (g *Gate) RequiredApprovals() int {
	if g.Required < 1 {
		return 1
	}
	return g.Required
}

// AllAssignees is the gate's assignees plus those added by escalations that
// have fired.
func (g *Gate) AllAssignees() []string {
	out := append([]string(nil), g.Assignees...)
	for i := 0; i < g.EscalationsDone && i < len(g.Escalation); i++ {
		out = append(out, g.Escalation[i].Assignees...)
	}
	return out
}

// Assigned reports whether the gate names the identity among its
// assignees (escalation tiers included): the gate is waiting on them.
func (g *Gate) Assigned(id Identity) bool { return id.MatchesAny(g.AllAssignees()) }

// MayResolve reports whether the identity may act on the gate: anyone when
// the gate has no assignees, else only an assignee. The Service narrows
// unassigned gates further when RestrictUnassigned is set, so adapters
// that must answer as the service would ask Service.MayResolve instead.
func (g *Gate) MayResolve(id Identity) bool { return len(g.AllAssignees()) == 0 || g.Assigned(id) }

// mayResolve is MayResolve under the service's policy: with
// RestrictUnassigned (what `cla serve` sets unless the config says
// otherwise) a gate nobody was named for is resolved only by admins and
// identities with the resolveUnassigned right.
func (s *Service) mayResolve(g *Gate, id Identity) bool {
	if len(g.AllAssignees()) == 0 && s.restrictUnassigned {
		return id.Admin || id.ResolveUnassigned
	}
	return g.MayResolve(id)
}

// close records the resolution of the gate.
func (g *Gate) close(o Outcome, by, via string, at time.Time, msg string, ev *Evidence) {
	g.State = GateClosed
	g.Outcome = &o
	g.ResolvedBy, g.ResolvedVia, g.ResolvedAt = &by, &via, &at
	if msg != "" {
		g.Message = &msg
	}
	g.Evidence = ev
	g.NextReminderAt = nil
}

// ResolvedText says who closed the gate, how and when, for conflict answers.
func (g *Gate) ResolvedText() string {
	if g.State != GateClosed || g.ResolvedBy == nil {
		return "not resolved"
	}
	return "already resolved (" + string(*g.Outcome) + ") by " + *g.ResolvedBy + " via " + *g.ResolvedVia +
		" at " + g.ResolvedAt.UTC().Format(time.RFC3339)
}

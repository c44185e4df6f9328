package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OpenGate opens a gate on a job that has none open.
func (s *Service) OpenGate(ctx context.Context, actor Identity, via, id string, cfg GateConfig) (*Job, *Gate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if strings.Contains(cfg.Description+cfg.Name, "{[") {
		// Rendered here, outside the write transaction, within limits: a
		// costly template must never hold the store's writer.
		j, err := s.GetJob(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if err := s.renderConfig(&cfg, j); err != nil {
			return nil, nil, err
		}
	} else if err := s.checkDescription(cfg.Description); err != nil {
		return nil, nil, err
	}
	if err := s.checkGateAssignees(ctx, &cfg); err != nil {
		return nil, nil, err
	}
	if err := s.checkGate(actor, &cfg); err != nil {
		return nil, nil, err
	}
	return s.change(ctx, id, by(EventGateOpened, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		g, gfx, err := s.openGate(j, actor, via, cfg, now)
		if err != nil {
			return nil, err
		}
		*fx = gfx
		return g, nil
	})
}

// renderConfig renders the {[ ]} templates of a gate config, its name and
// description, over the job's context within the service's limits. The
// name is plain text (escaped wherever it is shown); the description is
// chat markup whose printed values are escaped as data (Markup), and the
// rendered description must pass the markup's check.
func (s *Service) renderConfig(cfg *GateConfig, j *Job) error {
	var err error
	if cfg.Name, err = RenderLimited("name", cfg.Name, TemplateData(j), s.tmplLimits); err != nil {
		return err
	}
	if strings.TrimSpace(cfg.Name) == "" {
		return Errorf(EINVALID, "gate name renders empty")
	}
	if cfg.Description, err = RenderMarkup("description", cfg.Description, TemplateData(j), s.tmplLimits, s.markup); err != nil {
		return err
	}
	return s.checkDescription(cfg.Description)
}

// checkDescription refuses a (rendered) description the markup refuses,
// such as one that would notify a whole Slack channel.
func (s *Service) checkDescription(d string) error {
	if err := s.markup.Check(d); err != nil {
		return Errorf(EINVALID, "description: %v", err)
	}
	return nil
}

// openGate adds a gate to j in memory: schedule, move the job, and say
// whom to notify. cfg.Description is already rendered (outside any
// transaction) and is never rendered again: rendered text may carry
// context values, which are data, not template code.
func (s *Service) openGate(j *Job, actor Identity, via string, cfg GateConfig, now time.Time) (*Gate, Effects, error) {
	var fx Effects
	if err := cfg.Validate(); err != nil {
		return nil, fx, err
	}
	if err := activeJob(j); err != nil {
		return nil, fx, err
	}
	if open := j.OpenGate(); open != nil {
		return nil, fx, Errorf(ECONFLICT, "job %s already has an open gate: %s", j.ID, gateLabel(open))
	}
	if len(cfg.Assignees) == 0 {
		cfg.Assignees = append([]string{}, s.defaultAssignees...)
	}
	g := &Gate{ID: fmt.Sprintf("g%d", len(j.Gates)+1), GateConfig: cfg, State: GateOpen, OpenedAt: now, Approvals: []Vote{}}
	if cfg.Timeout != "" {
		d, _ := ParseDuration(cfg.Timeout)
		deadline := now.Add(d)
		g.Deadline = &deadline
	}
	var err error
	if g.NextReminderAt, err = g.reminderAfter(now); err != nil {
		return nil, fx, Errorf(EINVALID, "%v", err)
	}
	if err := j.setStatus(openStatus(cfg.Kind)); err != nil {
		return nil, fx, err
	}
	j.Gates = append(j.Gates, g)
	j.noteOpened(g)
	fx.Log = append(fx.Log, audit(now, actor, via, g.ID, fmt.Sprintf("opened %s; assignees %s", gateLabel(g), assigneeText(g.Assignees))))
	fx.Notify = notifications(j, g, NotifyGateOpened, "", s.channelsOf(g), g.Assignees, now)
	return g, fx, nil
}

func openStatus(k GateKind) Status {
	switch k {
	case KindApproval:
		return StatusAwaitingApproval
	case KindPause:
		return StatusPaused
	}
	return StatusActionRequired
}

func assigneeText(a []string) string {
	if len(a) == 0 {
		return "anyone"
	}
	return strings.Join(a, ", ")
}

// Reassign replaces the open gate's assignees and notifies the new ones.
// An assignee, the job's requester or an admin may reassign.
func (s *Service) Reassign(ctx context.Context, actor Identity, via, id string, assignees []string) (*Job, *Gate, error) {
	if len(assignees) == 0 {
		return nil, nil, Errorf(EINVALID, "reassign needs at least one assignee")
	}
	if err := validateAssignees("assignees", assignees); err != nil {
		return nil, nil, err
	}
	if err := s.limits.checkAssigneeCount("assignees", assignees, nil); err != nil {
		return nil, nil, err
	}
	if err := s.checkAssignees(ctx, "assignees", assignees, false); err != nil {
		return nil, nil, err
	}
	return s.change(ctx, id, by(EventReassigned, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		g := j.OpenGate()
		if g == nil {
			return nil, Errorf(ECONFLICT, "job %s has no open gate to reassign", j.ID)
		}
		if !actor.Admin && actor.Name != j.Requester && !s.mayResolve(g, actor) {
			return nil, Forbidden("ask one of its assignees ("+assigneeText(g.AllAssignees())+"), the job's requester ("+j.Requester+") or an admin",
				"%s may not reassign %s: only its assignees, the requester or an admin", actor.Name, gateLabel(g))
		}
		old := assigneeText(g.Assignees)
		g.Assignees = append([]string(nil), assignees...)
		fx.Log = append(fx.Log, audit(now, actor, via, g.ID, fmt.Sprintf("reassigned %s from %s to %s", gateLabel(g), old, assigneeText(assignees))))
		fx.Notify = notifications(j, g, NotifyReassigned, fmt.Sprint(j.Version), s.channelsOf(g), assignees, now)
		return g, nil
	})
}

// ToggleChecklist ticks or unticks one checklist item of the open gate.
func (s *Service) ToggleChecklist(ctx context.Context, actor Identity, via, id string, item int, checked bool) (*Job, *Gate, error) {
	return s.ToggleChecklistOf(ctx, actor, via, id, "", item, checked)
}

// ToggleChecklistOf ticks or unticks one checklist item of the gate named
// gateID, checked in the transaction: if that gate is no longer the open
// one (the person ticked an old message), nothing changes and the answer
// says what became of it. An empty gateID means the open gate.
func (s *Service) ToggleChecklistOf(ctx context.Context, actor Identity, via, id, gateID string, item int, checked bool) (*Job, *Gate, error) {
	return s.change(ctx, id, by(EventChecklistTicked, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		g := j.OpenGate()
		if g == nil && gateID != "" {
			return nil, staleGate(j, gateID)
		}
		if g == nil {
			return nil, Errorf(ECONFLICT, "job %s has no open gate", j.ID)
		}
		if gateID != "" && g.ID != gateID {
			return nil, staleGate(j, gateID)
		}
		if item < 0 || item >= len(g.Checklist) {
			return nil, Errorf(EINVALID, "checklist item %d does not exist (items are numbered 0 to %d)", item, len(g.Checklist)-1)
		}
		if !s.mayResolve(g, actor) {
			return nil, Forbidden(notAssigneeHint(actor), "%s is not an assignee of %s", actor.Name, gateLabel(g))
		}
		// Only an item's latest tick decides (its state, who ticked it);
		// the log keeps the history, so the gate keeps one tick per item.
		g.Ticks = append(slices.DeleteFunc(g.Ticks, func(t Tick) bool { return t.Item == item }),
			Tick{Item: item, Checked: checked, By: actor.Name, Via: via, At: now})
		verb := "ticked"
		if !checked {
			verb = "unticked"
		}
		fx.Log = append(fx.Log, audit(now, actor, via, g.ID, fmt.Sprintf("%s checklist item %d: %s", verb, item+1, g.Checklist[item])))
		return g, nil
	})
}

// RecordMessage remembers a chat message that announced a gate, so that it
// can be updated when the gate is resolved. Recording twice is harmless.
func (s *Service) RecordMessage(ctx context.Context, id, gateID string, ref MessageRef) error {
	_, _, err := s.change(ctx, id, by(EventMessageRecorded, System, ""), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		g := j.Gate(gateID)
		if g == nil {
			return nil, Errorf(ENOTFOUND, "job %s has no gate %s", j.ID, gateID)
		}
		for _, m := range g.Messages {
			if m == ref {
				return nil, errUnchanged
			}
		}
		g.Messages = append(g.Messages, ref)
		return g, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

var errUnchanged = &Error{Code: ECONFLICT, Message: "unchanged"}

// notifications lists what to send about a gate: its own channels plus
// every Slack channel bound to the job, each once.
func notifications(j *Job, g *Gate, event, cause string, chs []NotifyChannel, assignees []string, now time.Time) []Notification {
	all := append([]NotifyChannel(nil), chs...)
	for _, c := range j.Channels {
		all = append(all, NotifyChannel{Type: "slack", ChannelID: c.ID})
	}
	seen := map[string]bool{}
	var out []Notification
	for _, ch := range all {
		id := fmt.Sprintf("%s/%s/%s/%s/%s:%s", j.ID, g.ID, event, cause, ch.Type, ch.Target())
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, Notification{ID: id, JobID: j.ID, GateID: g.ID, Event: event, Channel: ch,
			Assignees: assignees, CreatedAt: now, DueAt: now})
	}
	return out
}

// resolvedNotifications asks the Slack side to update every message that
// announced the gate; the announcement's refs are on the gate itself.
func resolvedNotifications(j *Job, g *Gate, now time.Time) []Notification {
	if len(g.Messages) == 0 && len(j.Channels) == 0 && !hasSlack(g.Channels) {
		return nil
	}
	id := fmt.Sprintf("%s/%s/%s", j.ID, g.ID, NotifyGateResolved)
	return []Notification{{ID: id, JobID: j.ID, GateID: g.ID, Event: NotifyGateResolved,
		Channel: NotifyChannel{Type: "slack"}, CreatedAt: now, DueAt: now}}
}

func hasSlack(chs []NotifyChannel) bool {
	for _, c := range chs {
		if c.Type == ChannelSlack {
			return true
		}
	}
	return false
}

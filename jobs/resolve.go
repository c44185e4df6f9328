package jobs

import (
	"context"
	"fmt"
	"time"
)

// Action is a verb a person uses on a gate.
type Action string

// Actions, grouped by the gate kind they resolve.
const (
	ActComplete Action = "complete"
	ActFail     Action = "fail"
	ActApprove  Action = "approve"
	ActReject   Action = "reject"
	ActResume   Action = "resume"
	ActRetry    Action = "retry"
	ActSkip     Action = "skip"
	ActAbort    Action = "abort"
)

var actionRules = map[Action]struct {
	kind    GateKind
	outcome Outcome
}{
	ActComplete: {KindAction, OutcomeSuccessful},
	ActFail:     {KindAction, OutcomeFailure},
	ActApprove:  {KindApproval, OutcomeApproved},
	ActReject:   {KindApproval, OutcomeRejected},
	ActResume:   {KindPause, OutcomeResumed},
	ActRetry:    {KindTrap, OutcomeRetry},
	ActSkip:     {KindTrap, OutcomeSkip},
	ActAbort:    {KindTrap, OutcomeAbort},
}

// KindOf returns the gate kind an action resolves, and whether the action
// is known.
func KindOf(a Action) (GateKind, bool) {
	r, ok := actionRules[a]
	return r.kind, ok
}

// Resolution is what a person does to a job's open gate. Gate, when set,
// names the gate meant (a button or link issued for it): if another gate is
// open by then, the resolution is refused rather than applied to it.
type Resolution struct {
	Action   Action    `json:"action"`
	Message  string    `json:"message,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
	Gate     string    `json:"gate,omitempty"`
	// BreakGlass, when set, is an admin's recorded emergency override.
	BreakGlass *BreakGlass `json:"breakGlass,omitempty"`
	// SlackUserID and SlackChannelID say where a Slack resolution came
	// from (the RFC's manual-action/slack-* metadata); adapters set them.
	SlackUserID    string `json:"-"`
	SlackChannelID string `json:"-"`
	// Once, when set, is a single-use key (a callback link's token) spent
	// in the transaction that applies the resolution: a refused attempt
	// leaves it unspent, and a second use is refused with ECONFLICT.
	Once string `json:"-"`
}

// Resolve applies a resolution to the job's open gate. The first resolution
// wins; a later one gets ECONFLICT naming who resolved the gate, via what
// and when, changes nothing, and is noted in the job log.
func (s *Service) Resolve(ctx context.Context, actor Identity, via, id string, r Resolution) (*Job, *Gate, error) {
	rule, ok := actionRules[r.Action]
	if !ok {
		return nil, nil, Errorf(EINVALID, "unknown action %q", r.Action)
	}
	var freezes []Freeze
	if rule.kind == KindAction {
		var err error
		if freezes, err = s.activeFreezes(ctx, true); err != nil {
			return nil, nil, err
		}
	}
	var late *Gate
	job, gate, err := s.change(ctx, id, by(EventGateResolved, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if err := frozen(freezes, j.Context, true); err != nil && j.Status == StatusActionRequired {
			return nil, err
		}
		late = nil // the store may run this more than once; only the last run counts
		if named := j.Gate(r.Gate); r.Gate != "" && named != nil && named.State == GateClosed {
			late = named // a click on an old message: noted on that message
			return nil, staleGate(j, r.Gate)
		}
		g, err := gateFor(j, rule.kind)
		if err != nil {
			if last := lastOfKind(j, rule.kind); j.OpenGate() == nil && last != nil {
				late = last // a gate of this kind was resolved before: note the attempt
			}
			return nil, err
		}
		if r.Gate != "" && r.Gate != g.ID {
			return nil, staleGate(j, r.Gate)
		}
		if err := s.pastDeadline(j, g, now); err != nil {
			return nil, err
		}
		if r.BreakGlass != nil {
			if err := s.checkBreakGlass(actor, r.BreakGlass); err != nil {
				return nil, err
			}
		} else if err := s.authorize(j, g, actor, via, r); err != nil {
			return nil, err
		}
		if r.Once != "" {
			fx.Once = append(fx.Once, r.Once)
		}
		if r.BreakGlass != nil {
			return g, s.breakGlass(j, g, actor, via, r, rule.outcome, now, fx)
		}
		return g, s.apply(j, g, actor, via, r, rule.outcome, now, fx)
	})
	if late != nil {
		if lerr := s.noteLateAttempt(ctx, actor, via, id, late, r.Action); lerr != nil {
			// The caller's answer (the gate was resolved) stands; only the
			// "also tried" line is missing.
			s.log.Error("record late attempt", "job", id, "gate", late.ID, "actor", actor.Name, "err", lerr)
		}
	}
	return job, gate, err
}

// gateFor finds the open gate an action of the given kind applies to. For
// a manual action the refusal starts as ctrlplane's completion API words it:
// "job is in successful status, expected action_required".
func gateFor(j *Job, kind GateKind) (*Gate, error) {
	g, err := openGateOf(j, kind)
	if err != nil && kind == KindAction && j.Status != StatusActionRequired {
		return nil, Errorf(ErrorCode(err), "job is in %s status, expected action_required: %s", j.Status, ErrorMessage(err))
	}
	return g, err
}

func openGateOf(j *Job, kind GateKind) (*Gate, error) {
	g := j.OpenGate()
	if g == nil {
		if last := lastOfKind(j, kind); last != nil {
			return nil, Errorf(ECONFLICT, "%s of job %s was %s", gateLabel(last), j.ID, last.ResolvedText())
		}
		if j.Status.Terminal() {
			return nil, Errorf(ECONFLICT, "job %s is %s and has no open gate", j.ID, j.Status)
		}
		return nil, Errorf(ECONFLICT, "job %s has no open %s gate", j.ID, kind)
	}
	if g.Kind != kind {
		return nil, Errorf(ECONFLICT, "job %s's open gate %s is %s gate, not %s gate", j.ID, g.ID, g.Kind.article(), kind.article())
	}
	return g, nil
}

// pastDeadline refuses a resolution of a gate whose timeout has passed:
// it is timed out whether or not the timer has fired yet (the server was
// down, or its timers are catching up), so nobody, break-glass included,
// may resolve it any more. The timers are woken to close it.
func (s *Service) pastDeadline(j *Job, g *Gate, now time.Time) error {
	if g.Deadline == nil || now.Before(*g.Deadline) {
		return nil
	}
	s.pokeTimers()
	return Errorf(ECONFLICT, "%s of job %s timed out at %s (timeout %s); it can no longer be resolved",
		gateLabel(g), j.ID, g.Deadline.UTC().Format(time.RFC3339), g.Timeout)
}

// staleGate refuses a resolution meant for a gate that is no longer the
// open one, saying what became of it.
func staleGate(j *Job, id string) error {
	if g := j.Gate(id); g != nil && g.State == GateClosed {
		return Errorf(ECONFLICT, "%s of job %s was %s", gateLabel(g), j.ID, g.ResolvedText())
	}
	return Errorf(ECONFLICT, "gate %s is not the open gate of job %s", id, j.ID)
}

func lastOfKind(j *Job, kind GateKind) *Gate {
	for i := len(j.Gates) - 1; i >= 0; i-- {
		if j.Gates[i].Kind == kind {
			return j.Gates[i]
		}
	}
	return nil
}

// authorize checks who may resolve: assignees only (when set), no
// self-approval, one vote each, evidence and checklist when required. A
// webhook callback carries a signed token scoped to the gate: the token is
// the authority, so it passes the assignee check.
func (s *Service) authorize(j *Job, g *Gate, actor Identity, via string, r Resolution) error {
	if err := s.authorizeActor(j, g, actor, via, r.Action); err != nil {
		return err
	}
	switch r.Action {
	case ActComplete:
		if g.RequireEvidence && r.Evidence.Empty() {
			return Errorf(EINVALID, "%s requires evidence: a message or a URL", gateLabel(g))
		}
		if left := g.Unchecked(); len(left) > 0 && !g.AllowPartial {
			return Errorf(EINVALID, "tick every checklist item first; not ticked: %v", left)
		}
	}
	return nil
}

// MayResolve answers, before anything is typed, whether the actor may take
// the action on the job's open gate g: the same rule and the same refusal
// Resolve gives (assignees, unassigned gates, self-approval, one vote
// each, the checklist), without the evidence that is yet to be asked for.
// Adapters use it to refuse a form before opening it; Resolve checks again
// in its transaction.
func (s *Service) MayResolve(actor Identity, via string, j *Job, g *Gate, a Action) error {
	if err := s.authorizeActor(j, g, actor, via, a); err != nil {
		return err
	}
	if left := g.Unchecked(); a == ActComplete && len(left) > 0 && !g.AllowPartial {
		return Errorf(EINVALID, "tick every checklist item first; not ticked: %v", left)
	}
	return nil
}

// authorizeActor is the who-may part of authorize.
func (s *Service) authorizeActor(j *Job, g *Gate, actor Identity, via string, a Action) error {
	trusted := actor.Name == System.Name || via == ViaWebhook
	if !trusted && !s.mayResolve(g, actor) {
		if len(g.AllAssignees()) == 0 {
			return Forbidden(unassignedHint,
				"%s has no assignees, and %s may not resolve a gate nobody was named for", gateLabel(g), actor.Name)
		}
		return Forbidden(notAssigneeHint(actor),
			"%s is not an assignee of %s (assignees: %v)", actor.Name, gateLabel(g), g.AllAssignees())
	}
	switch a {
	case ActApprove:
		if actor.Is(j.Requester) && !g.AllowSelfApproval { // by any of their names: an admin may name the requester by email or Slack id
			return Forbidden("someone else must approve; or open the gate with --allow-self-approval "+
				`("allowSelfApproval": true); configure more identities under identities: in the server config`,
				"%s requested job %s and may not approve it", actor.Name, j.ID)
		}
		for _, v := range g.Approvals {
			if v.By == actor.Name {
				return Errorf(ECONFLICT, "%s already approved %s at %s", actor.Name, gateLabel(g), v.At.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// unassignedHint says how a gate with no assignees can be resolved.
const unassignedHint = "only admins and identities with resolveUnassigned: true may resolve it; " +
	"or have it reassigned (cla reassign JOB --assignee NAME), or set assignees.anyoneResolvesUnassigned: true in the server config"

// apply records the resolution (or the vote) and moves the job on.
func (s *Service) apply(j *Job, g *Gate, actor Identity, via string, r Resolution, o Outcome, now time.Time, fx *Effects) error {
	if r.Action == ActApprove {
		g.Approvals = append(g.Approvals, Vote{By: actor.Name, Via: via, At: now, Message: r.Message})
		if len(g.Approvals) < g.RequiredApprovals() {
			fx.Log = append(fx.Log, audit(now, actor, via, g.ID, withMessage(fmt.Sprintf("approved %s (%d of %d)",
				gateLabel(g), len(g.Approvals), g.RequiredApprovals()), r.Message)))
			return nil
		}
	}
	if err := closeGate(j, g, actor, via, o, r.Message, r.Evidence, now, fx); err != nil {
		return err
	}
	j.noteCompleted(g, actor, via, o, r, now)
	return nil
}

// closeGate ends the gate with an outcome and moves the job accordingly.
func closeGate(j *Job, g *Gate, actor Identity, via string, o Outcome, msg string, ev *Evidence, now time.Time, fx *Effects) error {
	g.close(o, actor.Name, via, now, msg, ev)
	if err := j.setStatus(StatusAfter(g, o)); err != nil {
		return err
	}
	text := fmt.Sprintf("%s %s", gateLabel(g), describeOutcome(o))
	if ev != nil && ev.URL != "" {
		text += " (evidence " + ev.URL + ")"
	}
	fx.Log = append(fx.Log, audit(now, actor, via, g.ID, withMessage(text, msg)),
		audit(now, actor, via, g.ID, "job status "+string(j.Status)))
	fx.Notify = append(fx.Notify, resolvedNotifications(j, g, now)...)
	return nil
}

// StatusAfter is the job status that follows a gate's outcome (SPEC §2).
func StatusAfter(g *Gate, o Outcome) Status {
	switch o {
	case OutcomeCancelled:
		return StatusCancelled
	case OutcomeAbort:
		return StatusFailure
	case OutcomeRetry, OutcomeSkip:
		return StatusInProgress
	case OutcomeFailure, OutcomeTimedOut, OutcomeRejected:
		if g.ContinueOnFailure && !g.CompletesJob {
			return StatusInProgress
		}
		if o == OutcomeRejected {
			return StatusRejected
		}
		return StatusFailure
	}
	if g.CompletesJob {
		return StatusSuccessful
	}
	return StatusInProgress
}

// noteLateAttempt logs that someone tried to resolve a closed gate, so the
// announcement can say "@bob also tried". It never changes the job. Once
// the job's log is full (limits.jobLogEntries) attempts are no longer
// logged, so repeated clicks cannot grow it without bound.
func (s *Service) noteLateAttempt(ctx context.Context, actor Identity, via, id string, g *Gate, a Action) error {
	now := s.Now()
	entry := audit(now, actor, via, g.ID, fmt.Sprintf("%s also tried to %s %s; it was %s", actor.Name, a, gateLabel(g), g.ResolvedText()))
	entry.Fields = map[string]string{"attempt": string(a)}
	entries, err := s.store.AppendLog(ctx, id, []LogEntry{entry}, uint64(s.quotas.JobLogEntries))
	if ErrorCode(err) == EQUOTA {
		return nil // the answer to the caller stands; the log is full
	}
	if err != nil {
		return fmt.Errorf("append late attempt to %s: %w", id, err)
	}
	job, err := s.store.GetJob(ctx, id)
	if err != nil {
		return fmt.Errorf("read job %s after a late attempt: %w", id, err)
	}
	s.publish(Event{Type: EventLateAttempt, Job: job, Gate: job.Gate(g.ID), Entries: entries, Actor: actor.Name, Via: via})
	return nil
}

// notAssigneeHint says how a refused person could act on a gate.
func notAssigneeHint(actor Identity) string {
	h := "ask an assignee, or have the gate reassigned to you (cla reassign JOB --assignee " + actor.Name + ")"
	if actor.Admin {
		h += "; " + breakGlassHint
	}
	return h
}

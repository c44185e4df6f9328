package jobs

import (
	"fmt"
	"strings"
	"time"
)

// BreakGlass asks for an emergency override: an admin resolves a gate that
// is not theirs to resolve. The reason is mandatory and the override is
// recorded everywhere the gate is shown.
type BreakGlass struct {
	Reason string `json:"reason"`
}

// BreakGlassRecord is kept on a gate resolved by break-glass.
type BreakGlassRecord struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Via    string    `json:"via"`
}

// NotifyBreakGlass tells a gate's assignees and channels that an admin
// overrode it.
const NotifyBreakGlass = "break_glass"

// maxBreakGlassReason caps the reason, which lands in Slack and email.
const maxBreakGlassReason = 1000

const breakGlassHint = "an admin may override with --break-glass --reason TEXT " +
	`(API: "breakGlass": {"reason": "..."}; Slack: /manual-action <verb> <job> --break-glass <reason>)`

// checkBreakGlass decides whether actor may override g.
func (s *Service) checkBreakGlass(actor Identity, bg *BreakGlass) error {
	if s.noBreakGlass {
		return Forbidden("set breakGlass.enabled: true in the server config to allow it",
			"break-glass is turned off on this server")
	}
	if !actor.Admin {
		return Forbidden("ask an admin (an identity with admin: true in the server config)",
			"%s is not an admin; only admins may break glass", actor.Name)
	}
	reason := strings.TrimSpace(bg.Reason)
	if reason == "" {
		return Errorf(EINVALID, "break-glass needs a reason (--reason TEXT)")
	}
	if len(reason) > maxBreakGlassReason {
		return Errorf(EINVALID, "break-glass reason is longer than %d bytes", maxBreakGlassReason)
	}
	return nil
}

// breakGlass closes g by an admin's override: assignees, self-approval,
// quorum and checklist do not apply; the reason stands in for missing
// evidence. The record goes on the gate, into the log, and to the gate's
// assignees and channels.
func (s *Service) breakGlass(j *Job, g *Gate, actor Identity, via string, r Resolution, o Outcome, now time.Time, fx *Effects) error {
	reason := strings.TrimSpace(r.BreakGlass.Reason)
	g.BreakGlass = &BreakGlassRecord{By: actor.Name, Reason: reason, At: now, Via: via}
	ev := r.Evidence
	if g.RequireEvidence && ev.Empty() && r.Action == ActComplete {
		ev = &Evidence{Message: "break-glass: " + reason}
	}
	entry := audit(now, actor, via, g.ID, fmt.Sprintf("⚠️ break-glass by %s on %s: %s", actor.Name, gateLabel(g), reason))
	entry.Fields = map[string]string{"breakGlass": reason}
	fx.Log = append(fx.Log, entry)
	if err := closeGate(j, g, actor, via, o, r.Message, ev, now, fx); err != nil {
		return err
	}
	fx.Notify = append(fx.Notify, notifications(j, g, NotifyBreakGlass, "1", g.Channels, g.AllAssignees(), now)...)
	return nil
}

// BreakGlassText is the line every door shows for an overridden gate.
func (g *Gate) BreakGlassText() string {
	if g.BreakGlass == nil {
		return ""
	}
	return "⚠️ Break-glass by @" + g.BreakGlass.By + ": " + g.BreakGlass.Reason
}

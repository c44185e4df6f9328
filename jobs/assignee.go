package jobs

import (
	"context"
	"fmt"
)

// AssigneeChecker tells whether an assignee entry names someone who could
// ever act: a configured identity, group or email, a Slack user or a Slack
// user group. A gate assigned to nobody real waits forever.
type AssigneeChecker interface {
	KnownAssignee(ctx context.Context, assignee string) (bool, error)
}

// checkGateAssignees refuses a gate whose assignees or escalation tiers
// name nobody, unless the gate allows unknown assignees.
func (s *Service) checkGateAssignees(ctx context.Context, cfg *GateConfig) error {
	if err := s.limits.checkAssigneeCount("assignees", cfg.Assignees, cfg.Escalation); err != nil {
		return err
	}
	if err := s.checkAssignees(ctx, "assignees", cfg.Assignees, cfg.AllowUnknownAssignees); err != nil {
		return err
	}
	for i, e := range cfg.Escalation {
		field := fmt.Sprintf("escalation[%d].assignees", i)
		if err := s.checkAssignees(ctx, field, e.Assignees, cfg.AllowUnknownAssignees); err != nil {
			return err
		}
	}
	return nil
}

// checkAssignees runs outside any transaction: the checker may ask Slack.
func (s *Service) checkAssignees(ctx context.Context, field string, assignees []string, allowUnknown bool) error {
	if s.assignees == nil || allowUnknown {
		return nil
	}
	for _, a := range assignees {
		ok, err := s.assignees.KnownAssignee(ctx, a)
		if err != nil {
			return fmt.Errorf("check assignee %q: %w", a, err)
		}
		if !ok {
			return &Error{Code: EINVALID,
				Message: fmt.Sprintf("%s: %q matches no identity, group, email, Slack user or Slack user group, so nobody could resolve the gate", field, a),
				Hint: "name a configured identity or group (identities: in the server config), an email or a Slack user; " +
					`or set "allowUnknownAssignees": true on the gate (cla gate --allow-unknown-assignees) or assignees.allowUnknown: true in the server config`}
		}
	}
	return nil
}

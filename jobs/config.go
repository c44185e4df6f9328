package jobs

import (
	"fmt"
	"strings"
)

// Validate checks a gate configuration before a gate is opened with it.
func (c *GateConfig) Validate() error {
	switch c.Kind {
	case KindAction, KindApproval, KindPause, KindTrap:
	case "":
		return Errorf(EINVALID, "gate kind is required (action, approval, pause or trap)")
	default:
		return Errorf(EINVALID, "unknown gate kind %q (want action, approval, pause or trap)", c.Kind)
	}
	if strings.TrimSpace(c.Name) == "" {
		return Errorf(EINVALID, "gate name is required")
	}
	if c.Timeout != "" {
		if _, err := ParseDuration(c.Timeout); err != nil {
			return Errorf(EINVALID, "timeout: %v", err)
		}
	}
	if err := validateAssignees("assignees", c.Assignees); err != nil {
		return err
	}
	if c.Required < 0 || c.Required > 100 {
		return Errorf(EINVALID, "required must be between 1 and 100")
	}
	if err := validateChannels(c.Channels); err != nil {
		return err
	}
	if err := c.validateReminder(); err != nil {
		return err
	}
	for i, e := range c.Escalation {
		if _, err := ParseDuration(e.After); err != nil {
			return Errorf(EINVALID, "escalation[%d].after: %v", i, err)
		}
		if err := validateAssignees(fmt.Sprintf("escalation[%d].assignees", i), e.Assignees); err != nil {
			return err
		}
		if err := validateChannels(e.Channels); err != nil {
			return err
		}
	}
	for i, item := range c.Checklist {
		if strings.TrimSpace(item) == "" {
			return Errorf(EINVALID, "checklist[%d] is empty", i)
		}
	}
	return nil
}

func (c *GateConfig) validateReminder() error {
	r := c.Reminder
	if r == nil {
		return nil
	}
	if (r.Interval == "") == (r.Cron == "") {
		return Errorf(EINVALID, "reminder needs exactly one of interval or cron")
	}
	if r.Interval != "" {
		if _, err := ParseDuration(r.Interval); err != nil {
			return Errorf(EINVALID, "reminder.interval: %v", err)
		}
	}
	if r.Cron != "" {
		if _, err := parseCron(r.Cron, r.Timezone); err != nil {
			return Errorf(EINVALID, "%v", err)
		}
	}
	if r.MaxReminders < 0 {
		return Errorf(EINVALID, "reminder.maxReminders must not be negative")
	}
	return nil
}

// validateAssignees refuses blank entries: a gate assigned to "" could be
// resolved by nobody.
func validateAssignees(field string, assignees []string) error {
	for i, a := range assignees {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), "@")) == "" {
			return Errorf(EINVALID, "%s[%d] is blank", field, i)
		}
	}
	return nil
}

func validateChannels(chs []NotifyChannel) error {
	for i, ch := range chs {
		switch ch.Type {
		case "slack", "email", "webhook":
		default:
			return Errorf(EINVALID, "channels[%d].type %q must be slack, email or webhook", i, ch.Type)
		}
		if ch.Target() == "" {
			return Errorf(EINVALID, "channels[%d] (%s) needs channelId, to or url", i, ch.Type)
		}
	}
	return nil
}

// RenderDescription renders a gate description, a Go template with {[ ]}
// delimiters, with the job context plus `job`, within the default
// TemplateLimits. A missing key is an error.
func RenderDescription(desc string, j *Job) (string, error) {
	return renderDescription(desc, j, TemplateLimits{})
}

func renderDescription(desc string, j *Job, lim TemplateLimits) (string, error) {
	return RenderLimited("description", desc, TemplateData(j), lim)
}

// TemplateData is what a job's templates see: the dispatch context plus
// `job` (id, name, requester, status).
func TemplateData(j *Job) map[string]any {
	data := cloneMap(j.Context)
	if data == nil {
		data = map[string]any{}
	}
	data["job"] = map[string]any{"id": j.ID, "name": j.Name, "requester": j.Requester, "status": string(j.Status)}
	return data
}

// describeOutcome turns an outcome into the past-tense words people read.
func describeOutcome(o Outcome) string {
	switch o {
	case OutcomeSuccessful:
		return "completed"
	case OutcomeFailure:
		return "failed"
	case OutcomeTimedOut:
		return "timed out"
	}
	return string(o)
}

func gateLabel(g *Gate) string { return fmt.Sprintf("%s gate %s (%s)", g.Kind, g.ID, g.Name) }

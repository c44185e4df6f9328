package jobs

import (
	"fmt"
	"strings"
)

// AgentTypes maps the ctrlplane job agent types cla accepts in a config's
// "type" to gate kinds: "manual-action" is ctrlplane's; the others are cla's
// own kinds, accepted as types too.
var AgentTypes = map[string]GateKind{
	"manual-action": KindAction,
	"action":        KindAction,
	"approval":      KindApproval,
	"pause":         KindPause,
	"trap":          KindTrap,
}

// AgentTypeNames lists AgentTypes for messages, ctrlplane's first.
const AgentTypeNames = "manual-action, action, approval, pause or trap"

// Validate checks a gate configuration before a gate is opened with it.
// A ctrlplane "type" is resolved into Kind here.
func (c *GateConfig) Validate() error {
	if err := c.resolveType(); err != nil {
		return err
	}
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

// resolveType turns ctrlplane's "type" into cla's kind. An unknown type, or
// one that contradicts the kind given, is refused naming what cla accepts.
func (c *GateConfig) resolveType() error {
	if c.Type == "" {
		return nil
	}
	k, ok := AgentTypes[c.Type]
	if !ok {
		return Errorf(EINVALID, "unknown type %q: cla accepts %s", c.Type, AgentTypeNames)
	}
	if c.Kind != "" && c.Kind != k {
		return Errorf(EINVALID, "type %q means kind %s, but kind %q was given", c.Type, k, c.Kind)
	}
	c.Kind = k
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
		case ChannelSlack, ChannelEmail, ChannelWebhook:
		default:
			return Errorf(EINVALID, "channels[%d].type %q must be slack, email or webhook", i, ch.Type)
		}
		if ch.Target() == "" {
			return Errorf(EINVALID, "channels[%d] (%s) needs channelId%s", i, ch.Type, synonym(ch.Type))
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

func synonym(typ ChannelType) string {
	switch typ {
	case ChannelEmail:
		return " (or its synonym to)"
	case ChannelWebhook:
		return " (or its synonym url)"
	}
	return ""
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

package gates

import (
	"context"
	"errors"
	"fmt"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Click is one block_actions action, as the socket loop hands it over.
type Click struct {
	UserID    string
	UserName  string
	TeamID    string
	ChannelID string // "" for App Home clicks
	MessageTS string // "" for App Home clicks
	ActionID  string
	// BlockID is the clicked element's block_id; checklist clicks need it
	// (it names the job, the gate and the first item of the group).
	BlockID   string
	Value     string // the button's value: the job id
	TriggerID string
	// SelectedOptions are the option values ticked in a checkboxes element.
	SelectedOptions []string
}

// clickActions maps the buttons that resolve directly to their action.
var clickActions = map[string]jobs.Action{
	blocks.ActionComplete: jobs.ActComplete,
	blocks.ActionApprove:  jobs.ActApprove,
	blocks.ActionReject:   jobs.ActReject,
	blocks.ActionResume:   jobs.ActResume,
	blocks.ActionRetry:    jobs.ActRetry,
	blocks.ActionSkip:     jobs.ActSkip,
	blocks.ActionAbort:    jobs.ActAbort,
}

// Click handles a button or checkbox click after the socket loop acked it.
// Whatever goes wrong for the person (not an assignee, already resolved,
// unknown job) is answered to them alone and changes nothing; the error
// return is only for failures worth logging.
func (h *Handler) Click(ctx context.Context, c Click) error {
	if c.ActionID == blocks.ActionView {
		return nil
	}
	who, err := h.people.Identity(ctx, c.UserID)
	if err != nil {
		h.tell(ctx, c.ChannelID, c.UserID, "Sorry, I could not look you up in Slack; please try again.")
		return fmt.Errorf("identify %s: %w", c.UserID, err)
	}
	if no := h.people.Refusal(who, people.Act); no != "" {
		h.tell(ctx, c.ChannelID, c.UserID, no)
		return nil
	}
	switch c.ActionID {
	case blocks.ActionChecklist:
		return h.toggle(ctx, who, c)
	case blocks.ActionFail:
		return h.openModal(ctx, who, c, jobs.ActFail)
	case blocks.ActionComplete:
		if h.needsEvidence(ctx, c.Value) {
			return h.openModal(ctx, who, c, jobs.ActComplete)
		}
	}
	act, ok := clickActions[c.ActionID]
	if !ok {
		h.log.Debug("click on unknown action ignored", "action", c.ActionID)
		return nil
	}
	return h.resolve(ctx, who, c, jobs.Resolution{Action: act})
}

// resolve applies the click to the gate its message was rendered for:
// the gate id from the block id goes into the domain, which checks it in
// the same transaction that writes. A refusal is answered to the person
// alone; the announcement (late attempts included) is the Announcer's.
func (h *Handler) resolve(ctx context.Context, who jobs.Identity, c Click, r jobs.Resolution) error {
	r.Gate = clickedGate(c)
	r.SlackUserID, r.SlackChannelID = c.UserID, c.ChannelID
	if _, _, err := h.svc.Resolve(ctx, who, jobs.ViaSlack, c.Value, r); err != nil {
		h.tell(ctx, c.ChannelID, c.UserID, h.failureText(err, "resolve"))
		return nil
	}
	h.refreshHomeOf(ctx, c)
	return nil
}

// clickedGate is the gate the clicked message was rendered for, from its
// block id ("" when the block id names none).
func clickedGate(c Click) string {
	if jobID, gateID, _, ok := blocks.ParseBlockID(c.BlockID); ok && jobID == c.Value {
		return gateID
	}
	return ""
}

// needsEvidence reports whether completing the job's open gate needs the
// evidence modal.
func (h *Handler) needsEvidence(ctx context.Context, jobID string) bool {
	job, err := h.svc.GetJob(ctx, jobID)
	if err != nil {
		return false
	}
	g := job.OpenGate()
	return g != nil && g.Kind == jobs.KindAction && g.RequireEvidence
}

// openModal opens the evidence (complete) or failure-reason (fail) modal
// with the click's trigger_id, after the checks that would otherwise only
// fail once the person has typed everything.
func (h *Handler) openModal(ctx context.Context, who jobs.Identity, c Click, act jobs.Action) error {
	job, g, problem := h.precheck(ctx, who, c.Value, clickedGate(c), act)
	if problem != "" {
		h.tell(ctx, c.ChannelID, c.UserID, problem)
		return nil
	}
	text, err := h.showModal(ctx, c.TriggerID, job, g, act)
	if text != "" {
		h.tell(ctx, c.ChannelID, c.UserID, text)
	}
	return err
}

// showModal calls views.open and returns what to tell the person when it
// cannot (an expired trigger gets the command to use instead), or "".
func (h *Handler) showModal(ctx context.Context, trigger string, job *jobs.Job, g *jobs.Gate, act jobs.Action) (string, error) {
	view := blocks.EvidenceModal(job, g)
	hint := fmt.Sprintf("/manual-action complete %s &lt;what you did&gt;", job.ID)
	if act == jobs.ActFail {
		view = blocks.FailureModal(job, g)
		hint = fmt.Sprintf("/manual-action fail %s &lt;reason&gt;", job.ID)
	}
	_, err := h.api.OpenViewContext(ctx, trigger, view)
	switch {
	case err == nil:
		return "", nil
	case expiredTrigger(err) || errors.Is(err, slack.ErrParametersMissing):
		return "The button expired before the form could open; use `" + hint + "` instead.", nil
	}
	return "Sorry, the form could not open; use `" + hint + "` instead.", slackError("views.open", err)
}

// precheck finds the open action gate and says, in words, why the person
// cannot act on it yet ("" when they can). gateID, when set, is the gate
// the clicked message showed: a form opens only for that gate, never for
// a newer one the person has not seen (the submission is checked again
// in the transaction that writes).
func (h *Handler) precheck(ctx context.Context, who jobs.Identity, jobID, gateID string, act jobs.Action) (*jobs.Job, *jobs.Gate, string) {
	job, err := h.svc.GetJob(ctx, jobID)
	if err != nil {
		return nil, nil, h.failureText(err, "get job")
	}
	g := job.OpenGate()
	if named := job.Gate(gateID); gateID != "" && (g == nil || g.ID != gateID) {
		if named != nil && named.State == jobs.GateClosed {
			return nil, nil, fmt.Sprintf("%s (%s) of job %s was %s.", named.ID, escape(named.Name), job.ID, escape(named.ResolvedText()))
		}
		return nil, nil, fmt.Sprintf("This message is for gate %s, which is not the open gate of job %s.", escape(gateID), job.ID)
	}
	switch {
	case g == nil || g.Kind != jobs.KindAction:
		if last := job.LastGate(); last != nil && last.State == jobs.GateClosed {
			return nil, nil, fmt.Sprintf("%s of job %s was %s.", escape(last.Name), job.ID, escape(last.ResolvedText()))
		}
		return nil, nil, fmt.Sprintf("Job %s has no open manual action.", job.ID)
	}
	// The service's own rule, the one Resolve applies: the answer here is
	// the answer the API would give.
	if err := h.svc.MayResolve(who, jobs.ViaSlack, job, g, act); err != nil {
		return nil, nil, h.failureText(err, "check resolve")
	}
	return job, g, ""
}

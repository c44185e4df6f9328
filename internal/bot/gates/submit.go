package gates

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Submission is a view_submission, as the socket loop hands it over.
type Submission struct {
	UserID          string
	CallbackID      string
	PrivateMetadata string
	// Values are the inputs' values: block id -> action id -> value.
	Values    map[string]map[string]string
	TriggerID string
}

// Submit handles a modal submission. Its answer goes in the ack: nil
// closes the modal, a response with response_action "errors" keeps it open
// with the messages under the offending fields. It calls no Slack method
// (the person is known from the click that opened the modal), so the ack
// stays within Slack's 3 seconds; the announcements are rewritten by the
// Announcer.
func (h *Handler) Submit(ctx context.Context, s Submission) (*slack.ViewSubmissionResponse, error) {
	jobID, gateID, ok := blocks.ParseMetadata(s.PrivateMetadata)
	if !ok {
		return nil, fmt.Errorf("submission %s without job metadata", s.CallbackID)
	}
	var r jobs.Resolution
	var field string
	switch s.CallbackID {
	case blocks.CallbackEvidence:
		var errs map[string]string
		r, errs = evidence(s.Values)
		if len(errs) > 0 {
			return slack.NewErrorsViewSubmissionResponse(errs), nil
		}
		field = blocks.BlockEvidenceMessage
	case blocks.CallbackFailure:
		reason := strings.TrimSpace(value(s.Values, blocks.BlockFailureReason))
		if reason == "" {
			return fieldError(blocks.BlockFailureReason, "Say what went wrong."), nil
		}
		r, field = jobs.Resolution{Action: jobs.ActFail, Message: reason}, blocks.BlockFailureReason
	default:
		return nil, nil
	}
	return h.submitResolution(ctx, s.UserID, jobID, gateID, field, r)
}

// submitResolution resolves the gate the modal was opened for; a refusal
// is shown on the modal's field.
func (h *Handler) submitResolution(ctx context.Context, user, jobID, gateID, field string, r jobs.Resolution) (*slack.ViewSubmissionResponse, error) {
	who, err := h.people.Identity(ctx, user)
	if err != nil {
		return fieldError(field, "Could not look you up in Slack; please try again."), err
	}
	if no := h.people.Refusal(who, people.Act); no != "" {
		return fieldError(field, no), nil
	}
	r.SlackUserID = user
	r.Gate = gateID // checked in the transaction: a form for an old gate resolves nothing
	if _, _, err := h.svc.Resolve(ctx, who, jobs.ViaSlack, jobID, r); err != nil {
		return fieldError(field, h.failureText(err, "resolve")), nil
	}
	return nil, nil
}

// evidence reads and validates the evidence modal's inputs.
func evidence(values map[string]map[string]string) (jobs.Resolution, map[string]string) {
	msg := strings.TrimSpace(value(values, blocks.BlockEvidenceMessage))
	link := strings.TrimSpace(value(values, blocks.BlockEvidenceURL))
	errs := map[string]string{}
	if msg == "" {
		errs[blocks.BlockEvidenceMessage] = "Describe what you did."
	}
	if link != "" && !validURL(link) {
		errs[blocks.BlockEvidenceURL] = "Enter a full link starting with https:// or http://."
	}
	return jobs.Resolution{Action: jobs.ActComplete, Message: msg,
		Evidence: &jobs.Evidence{Message: msg, URL: link}}, errs
}

// validURL accepts absolute http(s) URLs with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \n<>|")
}

// value is an input's value by block id, whatever its action id.
func value(values map[string]map[string]string, block string) string {
	for _, v := range values[block] {
		return v
	}
	return ""
}

// fieldError keeps the modal open with one message under a field.
func fieldError(field, msg string) *slack.ViewSubmissionResponse {
	return slack.NewErrorsViewSubmissionResponse(map[string]string{field: truncateRunes(msg, 300)})
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Package blocks builds cla's Slack Block Kit payloads: the gate
// announcement (open and resolved), the evidence and failure modals and the
// App Home. Every builder is a pure function of its inputs, so the payloads
// are checked by golden files and Slack's limits are enforced in one place
// (long descriptions split or truncated, checklists paged into groups of 10)
// rather than discovered as invalid_blocks answers in production.
package blocks

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Action ids (SPEC §5). They are the contract between the messages built
// here and the interaction handlers that receive the clicks.
const (
	ActionComplete  = "manual_action_complete"
	ActionFail      = "manual_action_fail"
	ActionApprove   = "approval_approve"
	ActionReject    = "approval_reject"
	ActionResume    = "pause_resume"
	ActionRetry     = "trap_retry"
	ActionSkip      = "trap_skip"
	ActionAbort     = "trap_abort"
	ActionChecklist = "checklist_toggle"
	// ActionView is the url button to the job page; Slack still sends a
	// block_actions payload for it, which handlers ignore.
	ActionView = "view_job"
)

// Modal callback ids, input block ids and input action ids (SPEC §5,
// ctrlplane RFC: block evidence_message holds the input
// evidence_message_input). The failure reason's action id equals its
// block id.
const (
	CallbackEvidence     = "manual_action_evidence"
	CallbackFailure      = "manual_action_failure"
	BlockEvidenceMessage = "evidence_message"
	BlockEvidenceURL     = "evidence_url"
	InputEvidenceMessage = "evidence_message_input"
	InputEvidenceURL     = "evidence_url_input"
	BlockFailureReason   = "failure_reason"
)

// ChecklistPage is how many checklist items one checkboxes element holds
// (Slack's limit is 10 options per element).
const ChecklistPage = 10

// BlockID names a block of a gate's message as "<job>/<gate>/<part>", so a
// click can be traced to the gate it was rendered for. Job ids cannot hold
// a slash, so the id splits back unambiguously.
func BlockID(jobID, gateID, part string) string {
	return jobID + "/" + gateID + "/" + part
}

// ParseBlockID splits a BlockID; ok is false for any other block id.
func ParseBlockID(id string) (jobID, gateID, part string, ok bool) {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// ChecklistPart is the block id part of the checkboxes element that starts
// at item start (0-based).
func ChecklistPart(start int) string { return "checklist-" + strconv.Itoa(start) }

// ParseChecklistPart returns the first item of a checklist part.
func ParseChecklistPart(part string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(part, "checklist-"))
	if err != nil || !strings.HasPrefix(part, "checklist-") || n < 0 {
		return 0, false
	}
	return n, true
}

// modalMetadata is a modal's private_metadata: ctrlplane's {"job_id"}
// plus the gate the modal was opened for.
type modalMetadata struct {
	JobID  string `json:"job_id"`
	GateID string `json:"gate_id"`
}

// Metadata is a modal's private_metadata, JSON as in ctrlplane's RFC:
// {"job_id": "…", "gate_id": "…"}.
func Metadata(jobID, gateID string) string {
	b, _ := json.Marshal(modalMetadata{JobID: jobID, GateID: gateID})
	return string(b)
}

// ParseMetadata reads a modal's private_metadata; the "job/gate" form of
// modals opened by earlier versions is still accepted.
func ParseMetadata(s string) (jobID, gateID string, ok bool) {
	var m modalMetadata
	if err := json.Unmarshal([]byte(s), &m); err == nil {
		return m.JobID, m.GateID, m.JobID != "" && m.GateID != ""
	}
	jobID, gateID, ok = strings.Cut(s, "/")
	return jobID, gateID, ok && jobID != "" && gateID != ""
}

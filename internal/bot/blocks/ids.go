// Package blocks builds cla's Slack Block Kit payloads: the gate
// announcement (open and resolved), the evidence and failure modals and the
// App Home. Every builder is a pure function of its inputs, so the payloads
// are checked by golden files and Slack's limits are enforced in one place
// (long descriptions split or truncated, checklists paged into groups of 10)
// rather than discovered as invalid_blocks answers in production.
package blocks

import (
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

// Modal callback ids and input block ids (SPEC §5, ctrlplane RFC). Each
// input's action id equals its block id.
const (
	CallbackEvidence     = "manual_action_evidence"
	CallbackFailure      = "manual_action_failure"
	BlockEvidenceMessage = "evidence_message"
	BlockEvidenceURL     = "evidence_url"
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

// Metadata is a modal's private_metadata: the job and gate it acts on.
func Metadata(jobID, gateID string) string { return jobID + "/" + gateID }

// ParseMetadata splits a modal's private_metadata.
func ParseMetadata(s string) (jobID, gateID string, ok bool) {
	jobID, gateID, ok = strings.Cut(s, "/")
	return jobID, gateID, ok && jobID != "" && gateID != ""
}

package blocks

import (
	"fmt"
	"strings"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// maxInput caps what a modal input accepts (Slack's plain_text_input limit).
const maxInput = 3000

// EvidenceModal asks for evidence before completing a manual action, as
// ctrlplane's RFC shows it: title "Complete Manual Action", the task, the
// inputs evidence_message / evidence_message_input (required) and
// evidence_url / evidence_url_input (optional), callback
// manual_action_evidence. The job and gate travel in private_metadata.
func EvidenceModal(job *jobs.Job, g *jobs.Gate) slack.ModalViewRequest {
	msg := slack.NewPlainTextInputBlockElement(plain("Describe the action taken..."), InputEvidenceMessage)
	msg.Multiline, msg.MaxLength = true, maxInput
	link := slack.NewURLTextInputBlockElement(plain("https://..."), InputEvidenceURL)
	urlBlock := slack.NewInputBlock(BlockEvidenceURL, plain("Evidence URL"), nil, link)
	urlBlock.Optional = true
	return modal(CallbackEvidence, "Complete Manual Action", "Complete", job, g,
		slack.NewInputBlock(BlockEvidenceMessage, plain("What was done?"), nil, msg), urlBlock)
}

// FailureModal asks why a manual action failed (callback
// manual_action_failure; input failure_reason).
func FailureModal(job *jobs.Job, g *jobs.Gate) slack.ModalViewRequest {
	reason := slack.NewPlainTextInputBlockElement(plain("What went wrong?"), BlockFailureReason)
	reason.Multiline, reason.MaxLength = true, maxInput
	return modal(CallbackFailure, "Report failure", "Report", job, g,
		slack.NewInputBlock(BlockFailureReason, plain("Reason"), nil, reason))
}

// maxModalTask caps the task description quoted in a modal; the message
// and the job page have it all.
const maxModalTask = 500

func modal(callback, title, submit string, job *jobs.Job, g *jobs.Gate, inputs ...slack.Block) slack.ModalViewRequest {
	task := "*" + escape(g.Name) + "*"
	if d := strings.TrimSpace(g.Description); d != "" {
		task += "\n" + truncate(d, maxModalTask)
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(task, maxSectionText)), nil, nil),
		slack.NewContextBlock("", mrkdwn(truncate(fmt.Sprintf("job `%s` · %s", job.ID, escape(job.Name)), maxContextText)))}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(title),
		Submit:          plain(submit),
		Close:           plain("Cancel"),
		CallbackID:      callback,
		PrivateMetadata: Metadata(job.ID, g.ID),
		Blocks:          slack.Blocks{BlockSet: append(blocks, inputs...)},
	}
}

package blocks

import (
	"fmt"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// maxInput caps what a modal input accepts (Slack's plain_text_input limit).
const maxInput = 3000

// EvidenceModal asks for evidence before completing a manual action
// (callback manual_action_evidence; inputs evidence_message, required, and
// evidence_url, optional). The job and gate travel in private_metadata.
func EvidenceModal(job *jobs.Job, g *jobs.Gate) slack.ModalViewRequest {
	msg := slack.NewPlainTextInputBlockElement(plain("What did you do? Commands, ticket, outcome…"), BlockEvidenceMessage)
	msg.Multiline, msg.MaxLength = true, maxInput
	link := slack.NewURLTextInputBlockElement(plain("https://…"), BlockEvidenceURL)
	urlBlock := slack.NewInputBlock(BlockEvidenceURL, plain("Link to evidence"), plain("A ticket, a dashboard, a log."), link)
	urlBlock.Optional = true
	return modal(CallbackEvidence, "Complete action", "Complete", job, g,
		slack.NewInputBlock(BlockEvidenceMessage, plain("Evidence"), nil, msg), urlBlock)
}

// FailureModal asks why a manual action failed (callback
// manual_action_failure; input failure_reason).
func FailureModal(job *jobs.Job, g *jobs.Gate) slack.ModalViewRequest {
	reason := slack.NewPlainTextInputBlockElement(plain("What went wrong?"), BlockFailureReason)
	reason.Multiline, reason.MaxLength = true, maxInput
	return modal(CallbackFailure, "Report failure", "Report", job, g,
		slack.NewInputBlock(BlockFailureReason, plain("Reason"), nil, reason))
}

func modal(callback, title, submit string, job *jobs.Job, g *jobs.Gate, inputs ...slack.Block) slack.ModalViewRequest {
	about := fmt.Sprintf("*%s*\njob `%s` · %s", escape(g.Name), job.ID, escape(job.Name))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(about, maxSectionText)), nil, nil)}
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

package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// runSlackNotify posts config.text to a Slack incoming webhook
// (config.webhook_url, with an optional link button) or, without one, as a
// comment on the run's job, which the server relays to the job's bound
// Slack channels.
func (r *runner) runSlackNotify(ctx context.Context, s *Step, cfg map[string]any) stepOut {
	text, _ := cfg["text"].(string)
	url, _ := cfg["webhook_url"].(string)
	if url == "" {
		if r.opts.Server == nil || r.st.JobID == "" {
			return stepOut{Err: fmt.Errorf("slack.notify needs config.webhook_url or --server")}
		}
		a := jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: text}
		if err := r.opts.Server.Annotate(ctx, r.st.JobID, a); err != nil {
			return stepOut{Err: fmt.Errorf("annotate job %s: %w", r.st.JobID, err), ExitCode: 1}
		}
		return stepOut{Output: text}
	}
	linkURL, _ := cfg["link_url"].(string)
	linkText, _ := cfg["link_text"].(string)
	raw, err := json.Marshal(SlackMessage(text, linkURL, linkText))
	if err != nil {
		return stepOut{Err: fmt.Errorf("encode message: %w", err)}
	}
	return r.post(ctx, url, raw, nil)
}

// SlackMessage is the incoming-webhook payload: the text as a fallback, a
// section with it, and an actions block with a link button when linkURL
// is set.
func SlackMessage(text, linkURL, linkText string) map[string]any {
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}}
	if linkURL != "" {
		if linkText == "" {
			linkText = "Open"
		}
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{map[string]any{
			"type": "button", "text": map[string]any{"type": "plain_text", "text": linkText}, "url": linkURL,
			"action_id": "workflow_link",
		}}})
	}
	return map[string]any{"text": text, "blocks": blocks}
}

package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/jobs"
)

// DefaultButtonText labels the pipeline button of a slack.notify step that
// gives gitlab_pipeline_url but no button_text, as shiro does.
const DefaultButtonText = "Review in GitLab"

// notice is a slack.notify step's config, read under cla's and shiro's
// names: text or message, link_url or gitlab_pipeline_url, link_text or
// button_text (the parser refuses both names of a pair).
type notice struct {
	text, webhookURL, channel, linkURL, linkText string
}

func readNotice(cfg map[string]any) notice {
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, _ := cfg[k].(string); v != "" {
				return v
			}
		}
		return ""
	}
	n := notice{text: str("text", "message"), webhookURL: str("webhook_url"), channel: str("channel"),
		linkURL: str("link_url", "gitlab_pipeline_url"), linkText: str("link_text", "button_text")}
	if n.linkURL != "" && n.linkText == "" {
		n.linkText = "Open"
		if str("gitlab_pipeline_url") != "" {
			n.linkText = DefaultButtonText
		}
	}
	return n
}

// runSlackNotify posts the message to a Slack incoming webhook
// (config.webhook_url, with the channel and a link button) or, without
// one, as a comment on the run's job, which the server relays to the job's
// bound Slack channels.
func (r *runner) runSlackNotify(ctx context.Context, _ *Step, cfg map[string]any) stepOut {
	n := readNotice(cfg)
	if n.webhookURL == "" {
		if r.opts.Server == nil || r.st.JobID == "" {
			return stepOut{Err: fmt.Errorf("slack.notify needs config.webhook_url or --server")}
		}
		text := n.text
		if n.linkURL != "" {
			text += "\n" + n.linkText + ": " + n.linkURL
		}
		a := jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: text}
		if err := r.opts.Server.Annotate(ctx, r.st.JobID, a); err != nil {
			return stepOut{Err: fmt.Errorf("annotate job %s: %w", r.st.JobID, err), ExitCode: 1}
		}
		return stepOut{Output: text}
	}
	msg := SlackMessage(n.text, n.linkURL, n.linkText)
	if n.channel != "" {
		msg["channel"] = n.channel
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return stepOut{Err: fmt.Errorf("encode message: %w", err)}
	}
	return r.post(ctx, n.webhookURL, raw, nil)
}

// SlackMessage is the incoming-webhook payload: the text (escaped: it is
// data, it mentions no one) as a fallback and in a section, and an actions
// block with a link button when linkURL is set.
func SlackMessage(text, linkURL, linkText string) map[string]any {
	text = slacktext.Escape(text)
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

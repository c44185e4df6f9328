package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
)

// answer posts a command's answer: ephemeral to the asker, or in the
// thread for everyone; an error becomes an ephemeral warning whose text is
// safe to show (internal details are only logged).
func (b *Bot) answer(ctx context.Context, in *Incoming, ans Answer, err error) {
	if err != nil {
		if jobs.ErrorCode(err) == jobs.EINTERNAL {
			b.cfg.Metrics.handlerErrors.Inc()
			b.log.Error("command failed", "user", in.User, "channel", in.Channel, "err", err)
		}
		// Domain messages quote names, ids and words people typed: data.
		ans = Answer{Text: "⚠️ " + escape(jobs.ErrorMessage(err))}
		if hint := jobs.ErrorHint(err); hint != "" {
			ans.Text += "\n💡 " + escape(hint)
		}
	}
	if ans.Text == "" {
		return
	}
	if ans.Thread {
		thread := in.ThreadTS
		if thread == "" {
			thread = in.TS
		}
		err = b.post(ctx, in.Channel, ans.Text, slack.MsgOptionTS(thread))
	} else {
		err = b.ephemeral(ctx, in.Channel, in.User, ans.Text)
	}
	if err != nil {
		b.log.Warn("answer failed", "channel", in.Channel, "user", in.User, "err", err)
	}
}

// ephemeral tells one person something in a channel.
func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) error {
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false))
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.postEphemeral: %w", err)
	}
	return nil
}

// post writes a message in a channel.
func (b *Bot) post(ctx context.Context, channel, text string, opts ...slack.MsgOption) error {
	opts = append([]slack.MsgOption{slack.MsgOptionText(text, false)}, opts...)
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, _, err := b.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.postMessage: %w", err)
	}
	return nil
}

// slackFailure turns a Web API error into an answer: a missing scope says
// which one and what to do, other Slack errors name Slack's code, and
// transport errors stay internal.
func slackFailure(method string, err error) error {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", method, err)
	}
	if se.Err == "missing_scope" {
		needed := se.Needed
		if needed == "" {
			needed = "(not named by Slack)"
		}
		return jobs.Errorf(jobs.EFORBIDDEN, "I'm missing the Slack scope `%s` needed for %s. "+
			"Add it to the app (see manifest.yaml) and reinstall it.", needed, method)
	}
	return jobs.Errorf(jobs.ECONFLICT, "Slack refused %s: `%s`.", method, se.Err)
}

// slackCode is the Slack error code of err, or "".
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

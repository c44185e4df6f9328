package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
)

// channelPrefix starts the name of every job channel: job-<id>.
const channelPrefix = "job-"

// addTarget is what "@cla add …" asks for: a job and a channel, known by
// id, by name (to create or find), or both.
type addTarget struct {
	job     string
	channel jobs.Channel
}

// cmdAdd creates or finds the job's channel, joins it, invites the caller,
// binds it to the job and posts the job's summary there.
func (b *Bot) cmdAdd(ctx context.Context, m *Mention) (Answer, error) {
	t, err := b.addTarget(ctx, m)
	if err != nil {
		return Answer{}, err
	}
	if _, err := b.svc.GetJob(ctx, t.job); err != nil {
		if jobs.ErrorCode(err) == jobs.ENOTFOUND {
			return Answer{}, jobs.Errorf(jobs.ENOTFOUND, "There is no job `%s`. Create it first (`cla job create --id %s …`).", t.job, t.job)
		}
		return Answer{}, err
	}
	ch, created, err := b.ensureChannel(ctx, t.channel)
	if err != nil {
		return Answer{}, err
	}
	if other, err := b.svc.Store().JobByChannel(ctx, ch.ID); err == nil && other != t.job {
		return Answer{}, jobs.Errorf(jobs.ECONFLICT, "<#%s> is already bound to job `%s`; a channel serves one job.", ch.ID, other)
	}
	note, err := b.enter(ctx, ch, created, m)
	if err != nil {
		return Answer{}, err
	}
	job, err := b.svc.BindChannel(ctx, m.Actor, jobs.ViaSlack, t.job, ch)
	if err != nil {
		return Answer{}, err
	}
	b.mirror.bound.Store(ch.ID, job.ID)
	if err := b.post(ctx, ch.ID, "This channel is bound to job "+jobSummary(job, b.cfg.PublicURL)); err != nil {
		b.log.Warn("summary not posted", "channel", ch.ID, "err", err)
	}
	return Answer{Text: fmt.Sprintf("<#%s> is bound to job `%s`; its messages go to the job log.%s", ch.ID, job.ID, note)}, nil
}

// addTarget reads the arguments: "#job-x" or "<#C…|job-x>" names the
// channel (and the job), a bare "x" binds the current channel to job x,
// nothing binds the current #job-… channel, and "<#C…> x" binds any
// channel to job x.
func (b *Bot) addTarget(ctx context.Context, m *Mention) (addTarget, error) {
	args := m.Command.Args
	var t addTarget
	switch {
	case len(args) == 0:
		t.channel.ID = m.In.Channel
	case len(args) > 2:
		return t, jobs.Errorf(jobs.EINVALID, "Usage: `@cla add #job-<id>`, `@cla add <id>` or `@cla add` inside a #job-… channel.")
	default:
		if name, ok := args[0].ChannelName(); ok {
			t.channel = jobs.Channel{ID: args[0].Channel, Name: name}
		} else {
			t.channel.ID, t.job = m.In.Channel, args[0].Text
		}
		if len(args) == 2 {
			t.job = args[1].Text
		}
	}
	if t.channel.ID != "" && t.channel.Name == "" {
		err := ratelimit.Retry(ctx, func(ctx context.Context) error {
			info, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: t.channel.ID})
			if err == nil {
				t.channel.Name = info.Name
			}
			return err
		})
		if err != nil {
			return t, slackFailure("conversations.info", err)
		}
	}
	if t.job == "" {
		id, ok := strings.CutPrefix(t.channel.Name, channelPrefix)
		if !ok || id == "" {
			return t, jobs.Errorf(jobs.EINVALID, "#%s is not a job channel (job-<id>). Use `@cla add #job-<id>`, or `@cla add <id>` to bind this channel.", t.channel.Name)
		}
		t.job = id
	}
	if !jobs.ValidID(t.job) {
		return t, jobs.Errorf(jobs.EINVALID, "`%s` is not a valid job id: it must match [a-z0-9][a-z0-9._-]{0,63}.", t.job)
	}
	if t.channel.Name == "" {
		t.channel.Name = channelName(t.job)
	}
	return t, nil
}

// channelName is the Slack channel name for a job: Slack allows no dots.
func channelName(job string) string {
	return channelPrefix + strings.ReplaceAll(job, ".", "-")
}

// ensureChannel returns the channel with its id, creating it when only a
// name is known; created says whether the bot made it (and is in it).
func (b *Bot) ensureChannel(ctx context.Context, ch jobs.Channel) (jobs.Channel, bool, error) {
	if ch.ID != "" {
		return ch, false, nil
	}
	var c *slack.Channel
	err := ratelimit.Retry(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: ch.Name})
		return err
	})
	if err == nil {
		return jobs.Channel{ID: c.ID, Name: c.Name}, true, nil
	}
	if slackCode(err) != "name_taken" {
		return ch, false, slackFailure("conversations.create", err)
	}
	found, err := b.findChannel(ctx, ch.Name)
	if err != nil {
		return ch, false, err
	}
	return found, false, nil
}

// findChannel looks a channel up by name with conversations.list.
func (b *Bot) findChannel(ctx context.Context, name string) (jobs.Channel, error) {
	p := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 1000,
		Types: []string{"public_channel", "private_channel"}}
	for {
		var chans []slack.Channel
		var next string
		err := ratelimit.Retry(ctx, func(ctx context.Context) (err error) {
			chans, next, err = b.api.GetConversationsContext(ctx, p)
			return err
		})
		if err != nil {
			return jobs.Channel{}, slackFailure("conversations.list", err)
		}
		for _, c := range chans {
			if c.Name == name {
				return jobs.Channel{ID: c.ID, Name: c.Name}, nil
			}
		}
		if next == "" {
			return jobs.Channel{}, jobs.Errorf(jobs.ENOTFOUND, "#%s exists but I cannot see it (private or archived?). "+
				"Invite me there with `/invite @cla` and type `@cla add` in it.", name)
		}
		p.Cursor = next
	}
}

// enter joins the channel (unless the bot created it) and invites the
// person who asked, unless they typed in it. Being there already is fine
// and a failed invite is only noted; a channel the bot cannot join is an
// error.
func (b *Bot) enter(ctx context.Context, ch jobs.Channel, created bool, m *Mention) (string, error) {
	if !created {
		err := ratelimit.Retry(ctx, func(ctx context.Context) error {
			_, _, _, err := b.api.JoinConversationContext(ctx, ch.ID)
			return err
		})
		if err != nil {
			switch slackCode(err) {
			case "method_not_supported_for_channel_type", "already_in_channel":
			default:
				return "", slackFailure("conversations.join", err)
			}
		}
	}
	if m.In.Channel == ch.ID {
		return "", nil
	}
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, err := b.api.InviteUsersToConversationContext(ctx, ch.ID, m.In.User)
		return err
	})
	if err != nil {
		switch code := slackCode(err); code {
		case "already_in_channel", "cant_invite_self":
		default:
			b.log.Warn("invite failed", "channel", ch.ID, "user", m.In.User, "err", err)
			return fmt.Sprintf(" I could not invite you (%s).", jobs.ErrorMessage(slackFailure("conversations.invite", err))), nil
		}
	}
	return "", nil
}

package talkbot

import (
	"context"

	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
)

// user is who a Slack user is for guards and the job log, their Slack
// user groups included. When Slack cannot say, they act as the bare
// "slack:<U…>" identity, with only its Slack user groups.
func (h *Handler) user(ctx context.Context, userID string) jobs.Identity {
	id, err := h.people.Identity(ctx, userID)
	if err != nil {
		h.log.Warn("users.info failed; acting as the bare slack user", "user", userID, "err", err)
	}
	return id
}

// talkbackUser is the guard's view of a person: the Slack id (which is what
// confirm rules compare), the identity's name, email and groups.
func talkbackUser(slackID string, id jobs.Identity) talkback.User {
	return talkback.User{ID: slackID, Email: id.Email, Name: id.Name, Groups: append([]string(nil), id.Groups...)}
}

// env builds what guards and command templates see for this request.
func (h *Handler) env(ctx context.Context, job *jobs.Job, userID, channelID string) talkback.Env {
	who := h.user(ctx, userID)
	return talkback.Env{
		Job:     talkback.Job{ID: job.ID, Name: job.Name, Status: string(job.Status), Context: job.Context},
		User:    talkbackUser(userID, who),
		Channel: talkback.Channel{ID: channelID, Name: h.people.ChannelName(ctx, channelID)},
		Now:     h.now().UTC(),
	}
}

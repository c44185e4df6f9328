package talkbot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/talkback"
)

// cacheTTL is how long a looked-up email or channel name is trusted.
const cacheTTL = time.Hour

// lookupTimeout bounds one users.info or conversations.info call.
const lookupTimeout = 5 * time.Second

// names resolves Slack users to identities (users.info for the email) and
// channel ids to names (conversations.info), caching both, and sharing one
// call among concurrent askers.
type names struct {
	api   *slack.Client
	dir   *jobs.Directory
	now   func() time.Time
	log   *slog.Logger
	group singleflight.Group

	mu       sync.Mutex
	users    map[string]cached[jobs.Identity]
	channels map[string]cached[string]
}

// cached is a looked-up value with when it was looked up.
type cached[T any] struct {
	v  T
	at time.Time
}

func newNames(api *slack.Client, dir *jobs.Directory, now func() time.Time, log *slog.Logger) *names {
	return &names{api: api, dir: dir, now: now, log: log,
		users: map[string]cached[jobs.Identity]{}, channels: map[string]cached[string]{}}
}

// user maps a Slack user to an identity. Configured users (by Slack id)
// cost nothing; others cost one users.info, whose email may match a
// configured identity. When Slack cannot answer the user acts as the bare
// "slack:<U…>" and nothing is cached.
func (n *names) user(ctx context.Context, userID string) jobs.Identity {
	if id := n.dir.ForSlackUser(userID, ""); id.Name != "slack:"+userID {
		return id
	}
	if c, ok := lookCache(n, n.users, userID); ok {
		return c
	}
	v, err, _ := n.group.Do("u:"+userID, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		u, err := n.api.GetUserInfoContext(lctx, userID)
		if err != nil {
			return nil, err
		}
		id := n.dir.ForSlackUser(userID, u.Profile.Email)
		storeCache(n, n.users, userID, id)
		return id, nil
	})
	if err != nil {
		n.log.Warn("users.info failed; acting as the bare slack user", "user", userID, "err", err)
		return n.dir.ForSlackUser(userID, "")
	}
	return v.(jobs.Identity)
}

// channel returns a channel's name ("" when Slack cannot say).
func (n *names) channel(ctx context.Context, channelID string) string {
	if c, ok := lookCache(n, n.channels, channelID); ok {
		return c
	}
	v, err, _ := n.group.Do("c:"+channelID, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		ch, err := n.api.GetConversationInfoContext(lctx, &slack.GetConversationInfoInput{ChannelID: channelID})
		if err != nil {
			return nil, err
		}
		storeCache(n, n.channels, channelID, ch.Name)
		return ch.Name, nil
	})
	if err != nil {
		n.log.Warn("conversations.info failed; channel name unknown", "channel", channelID, "err", err)
		return ""
	}
	return v.(string)
}

func lookCache[T any](n *names, m map[string]cached[T], key string) (T, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := m[key]
	if !ok || n.now().Sub(c.at) >= cacheTTL {
		var zero T
		return zero, false
	}
	return c.v, true
}

func storeCache[T any](n *names, m map[string]cached[T], key string, v T) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m[key] = cached[T]{v: v, at: n.now()}
}

// talkbackUser is the guard's view of a person: the Slack id (which is what
// confirm rules compare), the identity's name, email and groups.
func talkbackUser(slackID string, id jobs.Identity) talkback.User {
	return talkback.User{ID: slackID, Email: id.Email, Name: id.Name, Groups: append([]string(nil), id.Groups...)}
}

// env builds what guards and command templates see for this request.
func (h *Handler) env(ctx context.Context, job *jobs.Job, userID, channelID string) talkback.Env {
	who := h.names.user(ctx, userID)
	return talkback.Env{
		Job:     talkback.Job{ID: job.ID, Name: job.Name, Status: string(job.Status), Context: job.Context},
		User:    talkbackUser(userID, who),
		Channel: talkback.Channel{ID: channelID, Name: h.names.channel(ctx, channelID)},
		Now:     h.now().UTC(),
	}
}

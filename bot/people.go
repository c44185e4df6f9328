package bot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/cla-ops/cla/jobs"
)

// people maps Slack users to identities. A user configured by Slack id
// needs no API call; anyone else costs one users.info (for the email),
// shared by concurrent callers and cached.
type people struct {
	api    *slack.Client
	dir    *jobs.Directory
	log    *slog.Logger
	group  singleflight.Group
	groups *usergroups

	mu    sync.Mutex
	cache map[string]cachedIdentity
}

// cachedIdentity is an identity with when it was looked up.
type cachedIdentity struct {
	id jobs.Identity
	at time.Time
}

// identityTTL is how long a looked-up email is trusted.
const identityTTL = time.Hour

func newPeople(api *slack.Client, dir *jobs.Directory, lg *slog.Logger) *people {
	return &people{api: api, dir: dir, log: lg, cache: map[string]cachedIdentity{}, groups: &usergroups{api: api}}
}

// identity returns who a Slack user is, with the handles of the Slack user
// groups they are in added to Groups, so assignees naming a group match.
func (p *people) identity(ctx context.Context, userID string) jobs.Identity {
	id := p.base(ctx, userID)
	handles, err := p.groups.handles(ctx, userID)
	if err != nil {
		p.log.Warn("usergroups.list failed; using known groups", "err", err)
	}
	id.Groups = slices.Concat(id.Groups, handles)
	return id
}

// base returns who a Slack user is by configured Slack id or by email.
// When Slack cannot be asked, the user acts as "slack:<U…>" (or the
// identity configured for the id), and the answer is not cached.
func (p *people) base(ctx context.Context, userID string) jobs.Identity {
	if id := p.dir.ForSlackUser(userID, ""); id.Name != "slack:"+userID || userID == "" {
		return id
	}
	p.mu.Lock()
	c, ok := p.cache[userID]
	p.mu.Unlock()
	if ok && time.Since(c.at) < identityTTL {
		return c.id
	}
	v, err, _ := p.group.Do(userID, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		u, err := p.api.GetUserInfoContext(lctx, userID)
		if err != nil {
			return nil, err
		}
		id := p.dir.ForSlackUser(userID, u.Profile.Email)
		p.mu.Lock()
		p.cache[userID] = cachedIdentity{id: id, at: time.Now()}
		p.mu.Unlock()
		return id, nil
	})
	if err != nil {
		p.log.Warn("users.info failed; acting as the bare slack user", "user", userID, "err", err)
		return p.dir.ForSlackUser(userID, "")
	}
	return v.(jobs.Identity)
}

// actorName is the log actor of a message: the bot itself is "cla", other
// bots "bot:<B…>", people their identity name.
func (b *Bot) actorName(ctx context.Context, user, botID string) string {
	if b.self.isSelf(user, botID) {
		return jobs.System.Name
	}
	if user == "" && botID != "" {
		return "bot:" + botID
	}
	return b.people.base(ctx, user).Name
}

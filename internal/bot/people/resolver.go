// Package people maps Slack users to cla identities and back, for every
// Slack-facing part of cla (mentions, gate buttons and commands, the App
// Home, TalkBack guards), so that they all agree on who someone is.
//
// A user configured by Slack id costs no call. Anyone else costs one
// users.info for their email, which may match a configured identity; the
// handles of the Slack user groups they are in are added to Groups, so
// assignees and guards naming a group handle match its members. Every
// answer from Slack is cached, concurrent askers share one call, 429s are
// waited out, and a caller's context bounds only its own wait.
package people

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
)

// lookupTimeout bounds one shared Slack look-up, 429 waits included. It is
// detached from the first asker's context, because others may share it.
const lookupTimeout = 5 * time.Second

// Resolver answers who a Slack user is and which Slack user a cla name
// is. Build one per process with New and hand it to the bot, the gate
// handlers and TalkBot, so they share one cache. It is safe for
// concurrent use.
type Resolver struct {
	api     *slack.Client
	dir     *jobs.Directory
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration
	calls   singleflight.Group
	// unknown is what users outside the Directory may do (access.go).
	unknown UnknownUsers

	emails      cache // Slack user id -> email ("" when Slack shows none)
	users       cache // lower-case email -> Slack user id ("" when nobody)
	channels    cache // channel id -> name
	userHandles cache // Slack user id -> handle (display name, else name)
	groups      groups
}

// New builds a Resolver. A nil dir means nobody is configured (everyone
// acts as "slack:<U…>"); a nil log discards. It calls Slack only when asked.
func New(api *slack.Client, dir *jobs.Directory, log *slog.Logger) *Resolver {
	if dir == nil {
		dir = jobs.NewDirectory(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Resolver{api: api, dir: dir, log: log.With("component", "people"), now: time.Now, timeout: lookupTimeout}
	r.emails.init(identityTTL, r.clock)
	r.users.init(identityTTL, r.clock)
	r.channels.init(identityTTL, r.clock)
	r.userHandles.init(identityTTL, r.clock)
	return r
}

// clock lets tests move the caches' time.
func (r *Resolver) clock() time.Time { return r.now() }

// Directory is the configured identities the Resolver maps onto.
func (r *Resolver) Directory() *jobs.Directory { return r.dir }

// Identity returns who a Slack user is, with the handles of the Slack
// user groups they are in added to Groups. When users.info fails, the
// error says so and the identity is still usable: the bare "slack:<U…>"
// one, which callers that would rather carry on than refuse may use. A
// failed usergroups.list is only logged (the last known groups are used).
func (r *Resolver) Identity(ctx context.Context, userID string) (jobs.Identity, error) {
	id, err := r.base(ctx, userID)
	id.Groups = slices.Concat(id.Groups, r.handles(ctx, userID))
	return id, err
}

// Name is the identity name a Slack user acts under, for log actors:
// without group look-ups, and "slack:<U…>" when Slack cannot say more.
func (r *Resolver) Name(ctx context.Context, userID string) string {
	id, err := r.base(ctx, userID)
	if err != nil {
		r.log.Warn("users.info failed; acting as the bare slack user", "user", userID, "err", err)
	}
	return id.Name
}

// MentionName is how a mention of a Slack user reads in cla's records
// (without "@"): the cla identity name when the user is configured, else
// their Slack handle, else the user id when Slack cannot say.
func (r *Resolver) MentionName(ctx context.Context, userID string) string {
	id, err := r.base(ctx, userID)
	if err == nil && id.Name != "slack:"+userID {
		return id.Name
	}
	if h, ok := r.userHandles.get(userID); ok && h != "" {
		return h
	}
	return userID
}

// Cached is the identity as far as the caches know it, groups included,
// without calling Slack: for decisions taken under a lock or for many
// users at once, where a stale or bare answer is acceptable.
func (r *Resolver) Cached(userID string) jobs.Identity {
	email, _ := r.emails.get(userID)
	id := r.dir.ForSlackUser(userID, email)
	id.Groups = slices.Concat(id.Groups, r.groups.known(userID))
	return id
}

// base maps a Slack user to an identity by configured Slack id or by the
// email users.info reports. A failed look-up is not cached.
func (r *Resolver) base(ctx context.Context, userID string) (jobs.Identity, error) {
	if id := r.dir.ForSlackUser(userID, ""); id.Name != "slack:"+userID || userID == "" {
		return id, nil
	}
	email, ok := r.emails.get(userID)
	if !ok {
		var err error
		email, err = share(ctx, r, "users.info:"+userID, func(ctx context.Context) (string, error) {
			return r.userEmail(ctx, userID)
		})
		if err != nil {
			return r.dir.ForSlackUser(userID, ""), fmt.Errorf("users.info %s: %w", userID, err)
		}
	}
	return r.dir.ForSlackUser(userID, email), nil
}

// userEmail asks users.info and caches the email both ways.
func (r *Resolver) userEmail(ctx context.Context, userID string) (string, error) {
	u, err := r.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", err
	}
	email := u.Profile.Email
	r.emails.put(userID, email)
	handle := u.Profile.DisplayName
	if handle == "" {
		handle = u.Name
	}
	r.userHandles.put(userID, handle)
	if email != "" {
		r.users.put(lower(email), userID)
	}
	return email, nil
}

// share runs call once for everyone asking for key at the same time, on
// its own bounded context with 429s waited out; each caller waits at most
// until its own ctx ends.
func share[T any](ctx context.Context, r *Resolver, key string, call func(context.Context) (T, error)) (T, error) {
	ch := r.calls.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		var v T
		err := ratelimit.Retry(lctx, func(ctx context.Context) (err error) {
			v, err = call(ctx)
			return err
		})
		return v, err
	})
	var zero T
	select {
	case res := <-ch:
		if res.Err != nil {
			return zero, res.Err
		}
		return res.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// KnownUser reports whether Slack knows the user id (users.info answers
// for it). Slack's user_not_found is false; other failures are errors.
func (r *Resolver) KnownUser(ctx context.Context, userID string) (bool, error) {
	if _, ok := r.emails.get(userID); ok {
		return true, nil
	}
	_, err := share(ctx, r, "users.info:"+userID, func(ctx context.Context) (string, error) {
		return r.userEmail(ctx, userID)
	})
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "users_not_found") {
		return false, nil
	}
	return err == nil, err
}

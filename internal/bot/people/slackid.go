package people

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

// slackUser matches a Slack user id (U… or, on Enterprise Grid, W…).
var slackUser = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// IsSlackUser reports whether s is a Slack user id, as opposed to an
// identity name, a group or an email.
func IsSlackUser(s string) bool { return slackUser.MatchString(s) }

// SlackID finds the Slack user behind a name cla uses for people, so that
// messages can mention them: a Slack id (bare, "@U…" or "slack:U…"), an
// identity name (its configured Slack id, else its email) or an email,
// found with users.lookupByEmail. "" when there is none (groups, unknown
// names, Slack failing).
func (r *Resolver) SlackID(ctx context.Context, who string) string {
	who = strings.TrimPrefix(strings.TrimSpace(who), "@")
	if id, ok := strings.CutPrefix(who, "slack:"); ok {
		return id
	}
	if IsSlackUser(who) {
		return who
	}
	email := ""
	if id, ok := r.dir.ByName(who); ok {
		if id.Slack != "" {
			return id.Slack
		}
		email = id.Email
	} else if strings.Contains(who, "@") {
		email = who
	}
	if email == "" {
		return ""
	}
	return r.byEmail(ctx, email)
}

// SlackIDs resolves many names at once (as blocks.GateView.SlackIDs
// wants them): name -> Slack user id, for the names that have one.
func (r *Resolver) SlackIDs(ctx context.Context, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if _, done := out[n]; done {
			continue
		}
		if id := r.SlackID(ctx, n); id != "" {
			out[n] = id
		}
	}
	return out
}

// byEmail asks users.lookupByEmail once per email and TTL; "nobody has
// it" is cached too, other failures are logged and not.
func (r *Resolver) byEmail(ctx context.Context, email string) string {
	key := lower(email)
	if id, ok := r.users.get(key); ok {
		return id
	}
	id, err := share(ctx, r, "users.lookupByEmail:"+key, func(ctx context.Context) (string, error) {
		u, err := r.api.GetUserByEmailContext(ctx, email)
		switch {
		case err == nil:
			r.users.put(key, u.ID)
			return u.ID, nil
		case slackCode(err) == "users_not_found":
			r.users.put(key, "")
			return "", nil
		}
		return "", err
	})
	if err != nil {
		r.log.Warn("users.lookupByEmail failed; mentioning by name", "err", err)
	}
	return id
}

// slackCode is Slack's error code ("users_not_found"), or "".
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

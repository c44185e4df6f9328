package gates

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// peopleTTL is how long a Slack user's email (or an email's user) is
// trusted; a miss is cached as long, so an unknown email costs one call.
const peopleTTL = time.Hour

// maxPeople bounds each cache; past it the cache starts over.
const maxPeople = 10_000

// people maps Slack users to identities and people to Slack users, with
// the two lookups (users.info, users.lookupByEmail) cached.
type people struct {
	api *slack.Client
	dir *jobs.Directory
	log *slog.Logger

	mu      sync.Mutex
	emails  map[string]cached // Slack user id -> email
	byEmail map[string]cached // lower-case email -> Slack user id ("" if none)
}

type cached struct {
	value string
	at    time.Time
}

func newPeople(api *slack.Client, dir *jobs.Directory, lg *slog.Logger) *people {
	return &people{api: api, dir: dir, log: lg, emails: map[string]cached{}, byEmail: map[string]cached{}}
}

func (p *people) get(m map[string]cached, k string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := m[k]
	if !ok || time.Since(c.at) > peopleTTL {
		return "", false
	}
	return c.value, true
}

func (p *people) put(m map[string]cached, k, v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(m) >= maxPeople {
		clear(m)
	}
	m[k] = cached{value: v, at: time.Now()}
}

// identity maps a Slack user to who they are in cla: a configured Slack id
// needs no call; otherwise the email from users.info (cached) decides.
func (p *people) identity(ctx context.Context, userID string) (jobs.Identity, error) {
	if id := p.dir.ForSlackUser(userID, ""); id.Name != "slack:"+userID {
		return id, nil
	}
	email, ok := p.get(p.emails, userID)
	if !ok {
		u, err := p.api.GetUserInfoContext(ctx, userID)
		if err != nil {
			return jobs.Identity{}, slackError("users.info", err)
		}
		email = u.Profile.Email
		p.put(p.emails, userID, email)
		if email != "" {
			p.put(p.byEmail, strings.ToLower(email), userID)
		}
	}
	return p.dir.ForSlackUser(userID, email), nil
}

// slackID finds the Slack user behind a name cla uses for people: a Slack
// id, "slack:U…", an identity name or an email. "" when unknown (groups).
func (p *people) slackID(ctx context.Context, who string) string {
	who = strings.TrimPrefix(strings.TrimSpace(who), "@")
	if id, ok := strings.CutPrefix(who, "slack:"); ok {
		return id
	}
	if slackUser.MatchString(who) {
		return who
	}
	email := ""
	if id, ok := p.dir.ByName(who); ok {
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
	return p.byEmailLookup(ctx, email)
}

// byEmailLookup asks users.lookupByEmail once per email and TTL.
func (p *people) byEmailLookup(ctx context.Context, email string) string {
	key := strings.ToLower(email)
	if id, ok := p.get(p.byEmail, key); ok {
		return id
	}
	u, err := p.api.GetUserByEmailContext(ctx, email)
	switch {
	case err == nil:
		p.put(p.byEmail, key, u.ID)
		return u.ID
	case code(err) == "users_not_found":
		p.put(p.byEmail, key, "")
	default:
		p.log.Warn("users.lookupByEmail failed; mentioning by name", "err", err)
	}
	return ""
}

// slackIDs resolves many names at once for blocks.GateView.SlackIDs.
func (p *people) slackIDs(ctx context.Context, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if _, done := out[n]; done {
			continue
		}
		if id := p.slackID(ctx, n); id != "" {
			out[n] = id
		}
	}
	return out
}

var slackUser = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// cachedEmail is the user's email if known, without calling Slack.
func (p *people) cachedEmail(userID string) string {
	email, _ := p.get(p.emails, userID)
	return email
}

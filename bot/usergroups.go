package bot

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// usergroupsTTL is how long the workspace's user-group membership is reused.
const usergroupsTTL = 5 * time.Minute

// usergroups knows which Slack user groups each user is in, so that an
// assignee written as a group handle ("@ops" or "ops") matches its members.
// One usergroups.list call serves everyone for usergroupsTTL.
type usergroups struct {
	api *slack.Client

	mu     sync.Mutex
	byUser map[string][]string // user id -> handles
	at     time.Time
}

// handles returns the handles of the groups a user is in. When Slack
// cannot answer it returns the last known answer (possibly none).
func (g *usergroups) handles(ctx context.Context, userID string) ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byUser == nil || time.Since(g.at) > usergroupsTTL {
		if err := g.refreshLocked(ctx); err != nil {
			return g.byUser[userID], err
		}
	}
	return g.byUser[userID], nil
}

// refreshLocked reloads every group with its members.
func (g *usergroups) refreshLocked(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var groups []slack.UserGroup
	err := retry(lctx, func(ctx context.Context) (err error) {
		groups, err = g.api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeUsers(true))
		return err
	})
	if err != nil {
		return err
	}
	byUser := map[string][]string{}
	for _, grp := range groups {
		if grp.DateDelete != 0 {
			continue
		}
		for _, u := range grp.Users {
			byUser[u] = append(byUser[u], grp.Handle)
		}
	}
	g.byUser, g.at = byUser, time.Now()
	return nil
}

package people

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// groupsTTL is how long the workspace's user-group membership is reused.
const groupsTTL = 5 * time.Minute

// groups is which Slack user groups each user is in, from one
// usergroups.list call (with members) per groupsTTL for everyone.
type groups struct {
	reloading atomic.Bool // a background reload is under way

	mu      sync.Mutex
	byUser  map[string][]string // user id -> handles; nil until loaded
	handles map[string]bool     // every live group's handle
	at      time.Time
}

// known returns the handles last loaded for a user, without calling Slack.
func (g *groups) known(userID string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.byUser[userID])
}

// state reports whether a membership was ever loaded, and whether it is
// recent enough to use without reloading.
func (g *groups) state(now time.Time) (loaded, fresh bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byUser != nil, g.byUser != nil && now.Sub(g.at) <= groupsTTL
}

// set replaces the membership.
func (g *groups) set(byUser map[string][]string, handles map[string]bool, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byUser, g.handles, g.at = byUser, handles, at
}

// handles returns the handles of the groups a user is in. The first call
// waits for usergroups.list (within ctx); later ones answer from memory at
// once and, past groupsTTL, reload it in the background, so that a slow
// list never delays an answer that must fit in Slack's 3 s. When Slack
// cannot answer, the last known membership (possibly none) is used.
func (r *Resolver) handles(ctx context.Context, userID string) []string {
	switch loaded, fresh := r.groups.state(r.now()); {
	case !loaded:
		if _, err := share(ctx, r, "usergroups.list", r.loadGroups); err != nil {
			r.log.Warn("usergroups.list failed; using known groups", "err", err)
		}
	case !fresh && r.groups.reloading.CompareAndSwap(false, true):
		go func() { // bounded by the look-up timeout
			defer r.groups.reloading.Store(false)
			if _, err := share(context.WithoutCancel(ctx), r, "usergroups.list", r.loadGroups); err != nil {
				r.log.Warn("usergroups.list failed; using known groups", "err", err)
			}
		}()
	}
	return r.groups.known(userID)
}

// loadGroups reloads every group with its members; deleted groups count
// for nobody.
func (r *Resolver) loadGroups(ctx context.Context) (struct{}, error) {
	list, err := r.api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeUsers(true))
	if err != nil {
		return struct{}{}, err
	}
	byUser, handles := map[string][]string{}, map[string]bool{}
	for _, grp := range list {
		if grp.DateDelete != 0 {
			continue
		}
		handles[grp.Handle] = true
		for _, u := range grp.Users {
			byUser[u] = append(byUser[u], grp.Handle)
		}
	}
	r.groups.set(byUser, handles, r.now())
	return struct{}{}, nil
}

// KnownGroup reports whether a Slack user group with this handle exists
// (from the membership loaded by usergroups.list).
func (r *Resolver) KnownGroup(ctx context.Context, handle string) bool {
	if loaded, _ := r.groups.state(r.now()); !loaded {
		if _, err := share(ctx, r, "usergroups.list", r.loadGroups); err != nil {
			r.log.Warn("usergroups.list failed; the group is taken as unknown", "group", handle, "err", err)
		}
	}
	return r.groups.hasHandle(handle)
}

// hasHandle reports whether any loaded group has the handle.
func (g *groups) hasHandle(handle string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.handles[handle]
}

package main

import (
	"context"
	"net/mail"
	"strings"
	"sync/atomic"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
)

// assigneeCheck is the server's jobs.AssigneeChecker: an assignee must
// name a configured identity or group, an email (Slack users map to
// identities by email), or, once Slack is connected, a Slack user or user
// group that Slack knows.
type assigneeCheck struct {
	dir   *jobs.Directory
	slack atomic.Pointer[people.Resolver]
}

var _ jobs.AssigneeChecker = (*assigneeCheck)(nil)

// KnownAssignee implements jobs.AssigneeChecker.
func (c *assigneeCheck) KnownAssignee(ctx context.Context, assignee string) (bool, error) {
	a := strings.TrimPrefix(strings.TrimSpace(assignee), "@")
	if c.dir != nil && c.dir.Knows(a) {
		return true, nil
	}
	if addr, err := mail.ParseAddress(a); err == nil && addr.Address == a {
		return true, nil
	}
	r := c.slack.Load()
	if r == nil {
		return false, nil
	}
	if id := strings.TrimPrefix(a, "slack:"); people.IsSlackUser(id) {
		return r.KnownUser(ctx, id)
	}
	return r.KnownGroup(ctx, a), nil
}

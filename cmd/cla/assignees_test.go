package main

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestAssigneeCheck: configured names, groups and emails are known without
// Slack; Slack users and user groups are asked of Slack once it is there.
func TestAssigneeCheck(t *testing.T) {
	ctx := context.Background()
	emu := slackemu.NewTest(t, slackemu.Config{})
	dana := emu.AddUser(slackemu.User{Name: "dana", Email: "dana@example.com"})
	emu.AddUserGroup(slackemu.UserGroup{Handle: "sre", Users: []string{dana.ID}})
	check := &assigneeCheck{dir: jobs.NewDirectory([]jobs.Identity{{Name: "alice", Groups: []string{"ops"}}})}
	tests := []struct {
		assignee        string
		without, withSl bool
	}{
		{"alice", true, true},
		{"@ops", true, true},
		{"someone@example.com", true, true},
		{"nobody-team", false, false},
		{dana.ID, false, true},
		{"slack:" + dana.ID, false, true},
		{"U0NOSUCH", false, false},
		{"sre", false, true},
		{"@sre", false, true},
	}
	for _, tt := range tests {
		got, err := check.KnownAssignee(ctx, tt.assignee)
		require.NoError(t, err)
		require.Equal(t, tt.without, got, "%s without Slack", tt.assignee)
	}
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()))
	check.slack.Store(people.New(api, nil, nil))
	for _, tt := range tests {
		got, err := check.KnownAssignee(ctx, tt.assignee)
		require.NoError(t, err)
		require.Equal(t, tt.withSl, got, "%s with Slack", tt.assignee)
	}
}

package bot

import (
	"context"

	"github.com/cla-ops/cla/internal/slacktext"
)

// ownMessage reports whether cla itself wrote a message: its relayed
// comments, workflow step lines, gate announcements, summaries and
// TalkBack replies are already in the job log by the door they came
// through, so mirroring them back would log them twice. It knows the bot
// by the user and bot id auth.test reported and, before that answer
// arrives, by the app id Slack stamps on an app's messages. Messages of
// people and of other apps are mirrored.
func (b *Bot) ownMessage(in *Incoming) bool {
	if b.self.isSelf(in.User, in.BotID) {
		return true
	}
	return in.AppID != "" && in.OwnApp != "" && in.AppID == in.OwnApp
}

// readable is Slack wire text as people typed it (see slacktext.Decode),
// with user mentions read as cla names or Slack handles. Look-ups share
// lookupWait; a mention Slack cannot resolve in time keeps its user id.
func (b *Bot) readable(ctx context.Context, raw string) string {
	ids := slacktext.MentionedUsers(raw)
	if len(ids) == 0 {
		return slacktext.Decode(raw, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupWait)
	defer cancel()
	names := mentionNames{}
	for _, id := range ids {
		names[id] = b.people.MentionName(ctx, id)
	}
	return slacktext.Decode(raw, names)
}

// mentionNames answers slacktext.Names from resolved user names.
type mentionNames map[string]string

// UserName implements slacktext.Names.
func (n mentionNames) UserName(id string) string { return n[id] }

// ChannelName implements slacktext.Names; unlabelled channel mentions keep
// their id.
func (n mentionNames) ChannelName(string) string { return "" }

package bot

import (
	"context"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// lookupWait bounds how long a mention or a mirrored message waits for
// Slack to say who someone is: the mirror acks only after the append, and
// Slack redelivers what is not acked within 3 s. A slower look-up goes on
// in the background and fills the cache for the next message.
const lookupWait = 2 * time.Second

// actor is who a Slack user acts as in a command: their identity with
// their Slack user groups. When Slack cannot say, they act as the bare
// "slack:<U…>" identity rather than being refused, and known is false:
// such an identity may read and talk but not decide, since a configured
// person would otherwise act under a second name (approving a job they
// requested, or voting twice toward a quorum).
func (b *Bot) actor(ctx context.Context, userID string) (id jobs.Identity, known bool) {
	ctx, cancel := context.WithTimeout(ctx, lookupWait)
	defer cancel()
	id, err := b.people.Identity(ctx, userID)
	if err != nil {
		b.log.Warn("users.info failed; acting as the bare slack user", "user", userID, "err", err)
	}
	return id, err == nil
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
	ctx, cancel := context.WithTimeout(ctx, lookupWait)
	defer cancel()
	return b.people.Name(ctx, user)
}

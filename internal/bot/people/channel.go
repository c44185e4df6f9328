package people

import (
	"context"

	"github.com/slack-go/slack"
)

// ChannelName returns a channel's name from conversations.info, cached;
// "" when Slack cannot say (the failure is logged and not cached).
func (r *Resolver) ChannelName(ctx context.Context, channelID string) string {
	if name, ok := r.channels.get(channelID); ok {
		return name
	}
	name, err := share(ctx, r, "conversations.info:"+channelID, func(ctx context.Context) (string, error) {
		ch, err := r.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channelID})
		if err != nil {
			return "", err
		}
		r.channels.put(channelID, ch.Name)
		return ch.Name, nil
	})
	if err != nil {
		r.log.Warn("conversations.info failed; channel name unknown", "channel", channelID, "err", err)
	}
	return name
}

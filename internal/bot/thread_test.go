package bot

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestMirror_ThreadFollowsAnnouncement: a reply in the thread of job B's
// gate announcement, posted in a channel bound to job A, lands in job B's
// log; other replies in that channel still land in job A's.
func TestMirror_ThreadFollowsAnnouncement(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ctx := context.Background()
	chA := h.bound("qa-a")
	h.job("qa-b", &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk"})
	api := slack.New(h.emu.BotToken(), slack.OptionAPIURL(h.emu.APIURL()))
	_, announcement, err := api.PostMessage(chA.ID, slack.MsgOptionText("Manual action: Swap disk (job qa-b)", false))
	require.NoError(t, err)
	require.NoError(t, h.svc.RecordMessage(ctx, "qa-b", "g1", jobs.MessageRef{Channel: chA.ID, TS: announcement}))
	top, err := h.emu.PostMessage(h.alice.ID, chA.ID, "starting the rollout")
	require.NoError(t, err)

	_, err = h.emu.PostReply(h.alice.ID, chA.ID, announcement, "disk swapped, serial ABC")
	require.NoError(t, err)
	_, err = h.emu.PostReply(h.bob.ID, chA.ID, top, "watching the graphs")
	require.NoError(t, err)
	h.idle()

	texts := func(id string) []string {
		var out []string
		for _, e := range h.messages(id) {
			out = append(out, e.Text)
		}
		return out
	}
	require.Equal(t, []string{"disk swapped, serial ABC"}, texts("qa-b"), "the reply follows its announcement")
	require.NotContains(t, texts("qa-a"), "disk swapped, serial ABC")
	require.Contains(t, texts("qa-a"), "watching the graphs")
	require.Contains(t, texts("qa-a"), "starting the rollout")
}

package gates_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// The RFC's open question 5: when Slack refuses the Block Kit message (a
// rejected block, a missing scope), a plain-text message with the link
// goes out instead, the job log says why, and its update falls back too.
func TestNotifier_PlainTextFallback(t *testing.T) {
	for _, slackErr := range []string{"invalid_blocks", "missing_scope"} {
		t.Run(slackErr, func(t *testing.T) {
			e := newEnv(t, slackemu.Config{})
			id := "fb-" + strings.ReplaceAll(slackErr, "_", "-")
			_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, JobAgentConfig: &jobs.GateConfig{
				Type: "manual-action", Name: "Swap failed disk", Description: "Replace the disk in node-7.",
				Assignees: []string{"alice"}, Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}})
			require.NoError(t, err)
			e.emu.InjectFault("chat.postMessage", slackemu.Fault{Error: slackErr, Times: 1})
			e.deliver()

			msgs := e.emu.Messages(e.channel)
			require.Len(t, msgs, 1, "one message, in plain text")
			m := msgs[0]
			require.NotContains(t, string(m.Blocks), "manual_action_complete", "no Block Kit")
			require.Contains(t, m.Text, "🔧 Manual Action Required\n*Swap failed disk*\nReplace the disk in node-7.")
			require.Contains(t, m.Text, "<https://cla.example/jobs/"+id+"|job "+id+">")
			require.Equal(t, []jobs.MessageRef{{Channel: m.Channel, TS: m.TS}}, e.job(id).LastGate().Messages, "recorded for updates")

			entries, err := e.svc.Log(e.ctx, id, 0, 100)
			require.NoError(t, err)
			var why string
			for _, en := range entries {
				if en.Fields["outcome"] == "fallback" {
					why = en.Text
				}
			}
			require.Equal(t, "Slack refused the interactive message for Swap failed disk in "+e.channel+" ("+slackErr+
				"); posted plain text with the job link instead", why)

			_, _, err = e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActComplete})
			require.NoError(t, err)
			e.emu.InjectFault("chat.update", slackemu.Fault{Error: slackErr, Times: 1})
			e.deliver()
			got := e.current(m)
			require.Contains(t, got.Text, "✅ Completed by <@U0ALICE> via api")
			require.Contains(t, got.Text, "Swap failed disk")
		})
	}
}

// A freeze with blockCompletion refuses a Slack click too, and Slack tells
// the person why; nothing changes.
func TestHandler_ClickFrozen(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("fz-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}})
	until := time.Now().Add(time.Hour)
	f, err := e.svc.CreateFreeze(e.ctx, jobs.Identity{Name: "root", Admin: true}, jobs.NewFreeze{Reason: "incident 42", Until: &until, BlockCompletion: true})
	require.NoError(t, err)
	before := e.job("fz-1").Version
	_, err = e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitEphemeral(alice, "completion is blocked by deployment freeze "+f.ID)
	require.Equal(t, before, e.job("fz-1").Version)
	require.Equal(t, jobs.StatusActionRequired, e.job("fz-1").Status)
}

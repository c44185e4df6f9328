package gates_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

func TestNotifier_ResolvedElsewhere(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-20", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"bob@example.com"},
		Timeout: "PT24H"})
	require.Contains(t, text(m.Blocks), "👤 Assigned to <@U0BOB>", "email assignee resolved to a Slack user")
	require.Contains(t, text(m.Blocks), "⏳ times out in 24h 0m")

	bobID, ok := jobs.NewDirectory(identities).ByName("bob")
	require.True(t, ok)
	_, _, err := e.svc.Resolve(e.ctx, bobID, jobs.ViaAPI, "qa-20", jobs.Resolution{Action: jobs.ActFail, Message: "no spare disk"})
	require.NoError(t, err)
	e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "❌ Failed by") })
	e.announcer.Wait()
	e.emu.ResetCalls()
	e.deliver()
	require.Empty(t, e.emu.Calls("chat.update"), "the outbox's delivery of a change already shown costs nothing")
	got := text(e.current(m).Blocks)
	require.Contains(t, got, "❌ Failed by <@U0BOB> via api at <!date^")
	require.Contains(t, got, "💬 no spare disk")
	require.Equal(t, []string{blocks.ActionView}, actionIDs(t, e.current(m).Blocks))

	// A late attempt through the API shows up too (Run follows the events).
	_, _, err = e.svc.Resolve(e.ctx, identities[0], jobs.ViaCLI, "qa-20", jobs.Resolution{Action: jobs.ActComplete})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	e.waitMessage(m, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "<@U0ALICE> also tried to complete via cli")
	})
}

func TestNotifier_RateLimitThenOutageThenOK(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-21", Name: "Deploy", Gate: &jobs.GateConfig{
		Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}})
	require.NoError(t, err)
	due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	n := due[0]

	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second, Times: 1})
	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusInternalServerError, Times: 1})
	err = e.notifier.Notify(e.ctx, n, e.job("qa-21"))
	var ra *jobs.RetryAfterError
	require.ErrorAs(t, err, &ra)
	require.Equal(t, 7*time.Second, ra.After)

	err = e.notifier.Notify(e.ctx, n, e.job("qa-21"))
	require.Error(t, err)
	require.False(t, errors.As(err, &ra), "a 500 is a plain retry")
	require.Contains(t, err.Error(), "chat.postMessage")

	require.NoError(t, e.notifier.Notify(e.ctx, n, e.job("qa-21")))
	require.NoError(t, e.notifier.Notify(e.ctx, n, e.job("qa-21")), "redelivered")
	require.Len(t, e.emu.Messages(e.channel), 1, "posted once")
	require.Len(t, e.job("qa-21").OpenGate().Messages, 1)
}

func TestNotifier_Nudges(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-22", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"},
		Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: 3}, Escalation: []jobs.Escalation{{After: "2h", Assignees: []string{"bob"}}}})

	e.clock.Add(time.Hour)
	require.NoError(t, e.svc.FireTimers(e.ctx, "qa-22"))
	e.deliver()
	e.clock.Add(time.Hour)
	require.NoError(t, e.svc.FireTimers(e.ctx, "qa-22"))
	e.deliver()

	var replies []string
	for _, x := range e.emu.Messages(e.channel) {
		if x.ThreadTS == m.TS && x.TS != m.TS {
			replies = append(replies, x.Text)
		}
	}
	require.Len(t, replies, 3, "reminder 1, escalation, reminder 2: %q", replies)
	require.Contains(t, replies[0], "⏰ Reminder for <@U0ALICE>: *Swap disk* is still waiting.")
	require.Contains(t, strings.Join(replies, "\n"), "🚨 Escalated to <@U0BOB>")
	require.Contains(t, text(e.current(m).Blocks), "Assigned to <@U0ALICE>, <@U0BOB>")
	require.Len(t, e.job("qa-22").OpenGate().Messages, 1, "no second announcement")
}

func TestNotifier_Undeliverable(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-23", Name: "Deploy", Gate: &jobs.GateConfig{
		Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: "C0NOWHERE"}}}})
	require.NoError(t, err)
	due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	err = e.notifier.Notify(e.ctx, due[0], e.job("qa-23"))
	var permanent *jobs.PermanentError
	require.ErrorAs(t, err, &permanent, "a missing channel is not worth retrying: the outbox drops it and logs why")
	require.Contains(t, err.Error(), "slack announcement of Hold: cannot post to C0NOWHERE")
}

func TestNotifier_JoinsPublicChannel(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	ch := e.emu.AddChannel(slackemu.Channel{Name: "ops", Members: []string{alice}})
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-24", Name: "Deploy", Gate: &jobs.GateConfig{
		Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: ch.ID}}}})
	require.NoError(t, err)
	e.deliver()
	require.Len(t, e.job("qa-24").OpenGate().Messages, 1)
	require.NotEmpty(t, e.emu.Calls("conversations.join"))
}

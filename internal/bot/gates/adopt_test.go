package gates_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestNotifier_AdoptsEarlierPost injects the fault of the duplicate-post
// window: Slack accepts the announcement but cla never learns its ts (the
// reply is lost, as when the replica dies before recording it). The next
// attempt finds the post by its metadata and records it instead of posting
// again. When the first attempt never reached Slack, the next one looks,
// finds nothing and posts; a first attempt does not look at all.
func TestNotifier_AdoptsEarlierPost(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fault        *slackemu.Fault
		historyFails bool
		wantLookups  int
		wantMsgs     int
	}{
		{"posted, reply lost", &slackemu.Fault{Status: http.StatusInternalServerError, AfterEffect: true, Times: 1}, false, 1, 1},
		{"never reached slack", &slackemu.Fault{Status: http.StatusInternalServerError, Times: 1}, false, 1, 1},
		{"first attempt", nil, false, 0, 1},
		// What remains of the window: a history that cannot be read costs
		// a second post rather than a missing announcement.
		{"posted, history unreadable", &slackemu.Fault{Status: http.StatusInternalServerError, AfterEffect: true, Times: 1}, true, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, slackemu.Config{})
			_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-70", Name: "Deploy", Gate: &jobs.GateConfig{
				Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}})
			require.NoError(t, err)
			due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now(), 10)
			require.NoError(t, err)
			require.Len(t, due, 1)
			if tc.fault != nil {
				e.emu.InjectFault("chat.postMessage", *tc.fault)
				require.Error(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-70")))
				require.Empty(t, e.job("qa-70").OpenGate().Messages, "nothing recorded")
			}
			if tc.historyFails {
				e.emu.InjectFault("conversations.history", slackemu.Fault{Error: "internal_error", Times: 1})
			}
			require.NoError(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-70")))

			msgs := e.emu.Messages(e.channel)
			require.Len(t, msgs, tc.wantMsgs)
			refs := e.job("qa-70").OpenGate().Messages
			require.Len(t, refs, 1)
			require.Equal(t, msgs[len(msgs)-1].TS, refs[0].TS, "the recorded ts is the last post's")
			require.Len(t, e.emu.Calls("conversations.history"), tc.wantLookups)
			var md struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			require.NoError(t, json.Unmarshal(msgs[0].Metadata, &md))
			require.Equal(t, gates.AnnounceEventType, md.EventType)
			require.Equal(t, map[string]any{"job_id": "qa-70", "gate_id": e.job("qa-70").OpenGate().ID}, md.EventPayload)
		})
	}
}

// TestNotifier_AdoptIgnoresOtherGates: a retry adopts only the post of its
// own job and gate.
func TestNotifier_AdoptIgnoresOtherGates(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-71", jobs.GateConfig{Kind: jobs.KindPause, Name: "Other"}) // a marked post of another job
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-72", Name: "Deploy", Gate: &jobs.GateConfig{
		Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}})
	require.NoError(t, err)
	due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusInternalServerError, Times: 1})
	require.Error(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-72")))
	require.NoError(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-72")))
	require.Len(t, e.emu.Calls("conversations.history"), 1, "it looked")
	require.Len(t, e.emu.Messages(e.channel), 2, "one announcement per job")
	require.Len(t, e.job("qa-72").OpenGate().Messages, 1)
	require.NotEqual(t, e.job("qa-71").OpenGate().Messages[0].TS, e.job("qa-72").OpenGate().Messages[0].TS)
}

// TestNotifier_NudgeNotRepeated: a reminder that Slack threaded but whose
// reply was lost is not threaded again when the notification is retried.
func TestNotifier_NudgeNotRepeated(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-73", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"},
		Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: 3}})
	e.clock.Add(time.Hour)
	require.NoError(t, e.svc.FireTimers(e.ctx, "qa-73"))
	due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, jobs.NotifyReminder, due[0].Event)
	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusInternalServerError, AfterEffect: true, Times: 1})
	require.Error(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-73")))
	require.NoError(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-73")))
	var replies []slackemu.Message
	for _, x := range e.emu.Messages(e.channel) {
		if x.ThreadTS == m.TS && x.TS != m.TS {
			replies = append(replies, x)
		}
	}
	require.Len(t, replies, 1, "threaded once")
	require.Contains(t, string(replies[0].Metadata), gates.NudgeEventType)
	require.Len(t, e.emu.Calls("conversations.replies"), 1)
}

// TestNotifier_AdoptIgnoresOtherApps: another app in the channel posting
// this gate's metadata is not taken for cla's announcement; the retry
// posts cla's own and records it.
func TestNotifier_AdoptIgnoresOtherApps(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-74", Name: "Deploy", Gate: &jobs.GateConfig{
		Kind: jobs.KindPause, Name: "Hold", Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}})
	require.NoError(t, err)
	due, _, err := e.svc.Store().Outbox(e.ctx, e.svc.Now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusInternalServerError, Times: 1})
	require.Error(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-74")))
	meta, err := json.Marshal(map[string]any{"event_type": gates.AnnounceEventType,
		"event_payload": map[string]any{"job_id": "qa-74", "gate_id": e.job("qa-74").OpenGate().ID}})
	require.NoError(t, err)
	forged, err := e.emu.PostAsOtherApp("B0OTHERAPP", e.channel, "not cla", meta)
	require.NoError(t, err)

	require.NoError(t, e.notifier.Notify(e.ctx, due[0], e.job("qa-74")))
	require.Len(t, e.emu.Calls("conversations.history"), 1, "it looked")
	refs := e.job("qa-74").OpenGate().Messages
	require.Len(t, refs, 1)
	require.NotEqual(t, forged, refs[0].TS, "another app's message is not cla's announcement")
	var own int
	for _, m := range e.emu.Messages(e.channel) {
		if m.TS == refs[0].TS && m.IsBot() && m.BotID != "B0OTHERAPP" {
			own++
		}
	}
	require.Equal(t, 1, own, "cla posted and recorded its own announcement")
}

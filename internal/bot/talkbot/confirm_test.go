package talkbot

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// askConfirm has alice request "wipe target=db" and returns the confirm
// message and the request id its buttons carry.
func (f *fixture) askConfirm(req Request) (slackemu.Message, string) {
	f.t.Helper()
	require.NoError(f.t, f.h.Run(f.ctx, req))
	msgs := f.botMessages(f.channel)
	require.Len(f.t, msgs, 1)
	id := buttonValue(f.t, msgs[0], ActionConfirm)
	require.Equal(f.t, id, buttonValue(f.t, msgs[0], ActionCancel))
	require.Nil(f.t, f.runs(), "nothing runs before confirmation")
	return msgs[0], id
}

// buttonValue finds a button's value in a message's blocks ("" if none).
func buttonValue(t *testing.T, m slackemu.Message, actionID string) string {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(m.Blocks, &blocks))
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	return ""
}

func (f *fixture) click(user, action string, m slackemu.Message, id string) {
	f.t.Helper()
	require.NoError(f.t, f.h.Click(f.ctx, Click{UserID: user, ChannelID: f.channel, MessageTS: m.TS,
		ActionID: action, Value: id}))
}

func (f *fixture) current(m slackemu.Message) slackemu.Message {
	f.t.Helper()
	cur, ok := f.emu.Message(m.Channel, m.TS)
	require.True(f.t, ok)
	return cur
}

func lastTold(f *fixture, user string) string {
	told := f.ephemerals(user)
	require.NotEmpty(f.t, told)
	return told[len(told)-1]
}

func TestHandler_Click_Confirm(t *testing.T) {
	f := newFixture(t, true)
	req := f.ask(alice, f.channel, "wipe target=db")
	msg, id := f.askConfirm(req)
	require.Equal(t, req.TS, msg.ThreadTS, "the confirm message is in the request's thread")
	require.Contains(t, string(msg.Blocks), "wipe db")
	requested, ok := phase(f.talkLog(), "requested")
	require.True(t, ok)
	require.Contains(t, requested.Fields["verdict"], "waiting for confirmation")

	f.click(alice, ActionConfirm, msg, id)
	require.Contains(t, lastTold(f, alice), "second person must confirm")
	f.click(erin, ActionConfirm, msg, id)
	require.Contains(t, lastTold(f, erin), "Only members of ops")
	f.click(erin, ActionCancel, msg, id)
	require.Contains(t, lastTold(f, erin), "Only the requester")
	require.Nil(t, f.runs())
	require.NotEmpty(t, buttonValue(t, f.current(msg), ActionConfirm), "still pending")

	f.click(bob, ActionConfirm, msg, id)
	require.Equal(t, [][]string{{"wipe", "db"}}, f.runs())
	cur := f.current(msg)
	require.Empty(t, buttonValue(t, cur, ActionConfirm), "buttons removed")
	require.Contains(t, cur.Text, "Confirmed by <@"+bob+">")
	done, ok := phase(f.talkLog(), "finished")
	require.True(t, ok)
	require.Equal(t, "bob", done.Fields["approver"])
	require.Equal(t, "alice", done.Fields["requester"])
	confirmed, ok := phase(f.talkLog(), "confirmed")
	require.True(t, ok)
	require.Equal(t, "bob", confirmed.Actor)
	msgs := f.botMessages(f.channel)
	require.Len(t, msgs, 2)
	require.Equal(t, req.TS, msgs[1].ThreadTS)
	require.Contains(t, msgs[1].Text, "confirmed by <@"+bob+">")

	f.click(carol, ActionConfirm, msg, id)
	require.Contains(t, lastTold(f, carol), "already confirmed by <@"+bob+">")
	require.Len(t, f.runs(), 1)
}

func TestHandler_Click_ConcurrentConfirm(t *testing.T) {
	f := newFixture(t, true)
	msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, u := range []string{bob, carol, bob, carol} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_ = f.h.Click(f.ctx, Click{UserID: u, ChannelID: f.channel, MessageTS: msg.TS, ActionID: ActionConfirm, Value: id})
		}()
	}
	close(start)
	wg.Wait()
	require.Len(t, f.runs(), 1, "a request runs at most once")
	already := len(f.ephemerals(bob)) + len(f.ephemerals(carol))
	require.Equal(t, 3, already, "every other click is told it was already confirmed")
	finished := 0
	for _, e := range f.talkLog() {
		if e.Fields["phase"] == "finished" {
			finished++
		}
	}
	require.Equal(t, 1, finished)
}

func TestHandler_Click_Cancel(t *testing.T) {
	for _, canceller := range []string{alice, bob} {
		t.Run(canceller, func(t *testing.T) {
			f := newFixture(t, true)
			msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
			f.click(canceller, ActionCancel, msg, id)
			cur := f.current(msg)
			require.Empty(t, buttonValue(t, cur, ActionConfirm))
			require.Contains(t, cur.Text, "Cancelled by <@"+canceller+">")
			f.click(carol, ActionConfirm, msg, id)
			require.Contains(t, lastTold(f, carol), "already cancelled")
			require.Nil(t, f.runs())
			_, ok := phase(f.talkLog(), "cancelled")
			require.True(t, ok)
		})
	}
}

func TestHandler_Click_GuardRechecked(t *testing.T) {
	f := newFixture(t, true)
	msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
	f.openGate() // the job is now action_required: wipe's guard says no
	f.click(bob, ActionConfirm, msg, id)
	require.Nil(t, f.runs())
	require.Contains(t, lastTold(f, bob), "guard")
	require.Contains(t, string(f.current(msg).Blocks), "Not run")
	_, ok := phase(f.talkLog(), "refused_on_confirm")
	require.True(t, ok)
}

func TestHandler_Click_Expired(t *testing.T) {
	f := newFixture(t, true)
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC).UnixNano())
	f.h.now = func() time.Time { return time.Unix(0, now.Load()) }
	msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
	now.Add(int64(PendingTTL + time.Second))
	f.click(bob, ActionConfirm, msg, id)
	require.Nil(t, f.runs())
	require.Contains(t, lastTold(f, bob), "no longer pending")
	require.Contains(t, string(f.current(msg).Blocks), "Expired")
	// A later request prunes it once it has been expired for PendingTTL.
	now.Add(int64(PendingTTL))
	require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, "wipe target=db")))
	_, err := f.h.state.Confirmation(f.ctx, id)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "expired requests are forgotten")
}

func TestHandler_Click_UnknownOrForeign(t *testing.T) {
	f := newFixture(t, true)
	msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
	require.NoError(t, f.h.Click(f.ctx, Click{UserID: bob, ChannelID: f.other, MessageTS: msg.TS,
		ActionID: ActionConfirm, Value: id}))
	require.Contains(t, lastTold(f, bob), "does not belong", "a request is confirmed only in its own channel")
	require.NoError(t, f.h.Click(f.ctx, Click{UserID: bob, ChannelID: f.channel, ActionID: "something_else", Value: id}))
	require.NoError(t, f.h.Click(f.ctx, Click{UserID: bob, ChannelID: f.channel, ActionID: ActionConfirm, Value: "nope"}))
	require.Contains(t, lastTold(f, bob), "no longer pending")
	require.Nil(t, f.runs())
	f.click(bob, ActionConfirm, msg, id)
	require.Len(t, f.runs(), 1, "still pending after the stray clicks")
}

func TestHandler_Click_SlashCommand(t *testing.T) {
	f := newFixture(t, true)
	msg, id := f.askConfirm(Request{UserID: alice, ChannelID: f.channel, Text: "wipe target=db"})
	require.Empty(t, msg.ThreadTS, "a slash command's confirm message is top level")
	f.click(bob, ActionConfirm, msg, id)
	require.Len(t, f.runs(), 1)
	msgs := f.botMessages(f.channel)
	require.Len(t, msgs, 2)
	require.Equal(t, msg.TS, msgs[1].ThreadTS, "the result goes under the confirm message")
	require.True(t, strings.HasPrefix(msgs[1].Text, "✅"))
}

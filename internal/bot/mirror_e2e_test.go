package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// wantEntry is what one mirrored Slack action must become in the log.
type wantEntry struct {
	actor, text, ts, thread, subtype, channel string
	edited                                    bool
}

// conversation drives a scripted conversation of n actions in channels,
// returning the expected entries per channel in order.
type conversation struct {
	h    *harness
	rng  *rand.Rand
	live map[string][]string // channel -> live top-level and reply ts
	want map[string][]wantEntry
}

func newConversation(h *harness, seed uint64) *conversation {
	return &conversation{h: h, rng: rand.New(rand.NewPCG(seed, seed)), live: map[string][]string{}, want: map[string][]wantEntry{}}
}

// step performs one random action in channel ch: post, reply, edit, delete
// or file share.
func (c *conversation) step(t testing.TB, ch slackemu.Channel, i int) {
	h, live := c.h, c.live[ch.ID]
	user, actor := h.alice.ID, "alice"
	if i%3 == 0 {
		user, actor = h.bob.ID, "slack:"+h.bob.ID
	}
	text := fmt.Sprintf("message %d in %s", i, ch.Name)
	roll := c.rng.IntN(10)
	switch {
	case roll < 2 && len(live) > 0: // reply
		parent := live[c.rng.IntN(len(live))]
		ts, err := h.emu.PostReply(user, ch.ID, parent, text)
		require.NoError(t, err)
		m, _ := h.emu.Message(ch.ID, ts)
		c.add(ch.ID, ts, wantEntry{actor: actor, text: text, ts: ts, thread: m.ThreadTS, channel: ch.ID})
	case roll < 4 && len(live) > 0: // edit (as the author)
		ts := live[c.rng.IntN(len(live))]
		m, _ := h.emu.Message(ch.ID, ts)
		require.NoError(t, h.emu.EditMessage(ch.ID, ts, text+" (edited)"))
		c.add(ch.ID, "", wantEntry{actor: c.actorOf(m.User), text: text + " (edited)", ts: ts, thread: threadOf(m),
			subtype: "message_changed", channel: ch.ID, edited: true})
	case roll < 5 && len(live) > 0: // delete
		k := c.rng.IntN(len(live))
		ts := live[k]
		m, _ := h.emu.Message(ch.ID, ts)
		require.NoError(t, h.emu.DeleteMessage(ch.ID, ts))
		c.live[ch.ID] = append(live[:k:k], live[k+1:]...)
		c.add(ch.ID, "", wantEntry{actor: c.actorOf(m.User), text: m.Text, ts: ts, thread: threadOf(m),
			subtype: "message_deleted", channel: ch.ID})
	case roll < 6: // file share
		_, ts, err := h.emu.ShareFile(user, ch.ID, slackemu.File{Name: fmt.Sprintf("f%d.txt", i), Size: i + 1}, text)
		require.NoError(t, err)
		c.add(ch.ID, ts, wantEntry{actor: actor, text: text, ts: ts, subtype: "file_share", channel: ch.ID})
	default:
		ts, err := h.emu.PostMessage(user, ch.ID, text)
		require.NoError(t, err)
		c.add(ch.ID, ts, wantEntry{actor: actor, text: text, ts: ts, channel: ch.ID})
	}
}

func threadOf(m slackemu.Message) string {
	if m.ThreadTS == m.TS {
		return ""
	}
	return m.ThreadTS
}

func (c *conversation) actorOf(user string) string {
	if user == c.h.alice.ID {
		return "alice"
	}
	return "slack:" + user
}

func (c *conversation) add(ch, liveTS string, w wantEntry) {
	if liveTS != "" {
		c.live[ch] = append(c.live[ch], liveTS)
	}
	c.want[ch] = append(c.want[ch], w)
}

// got reduces log entries to wantEntry per channel, in log order.
func got(entries []jobs.LogEntry) map[string][]wantEntry {
	out := map[string][]wantEntry{}
	for _, e := range entries {
		f := e.Fields
		out[f["channel"]] = append(out[f["channel"]], wantEntry{actor: e.Actor, text: e.Text, ts: f["ts"],
			thread: f["thread_ts"], subtype: f["subtype"], channel: f["channel"], edited: f["edited_ts"] != ""})
	}
	return out
}

func TestBot_Mirror(t *testing.T) {
	// Order is what this test checks, so nothing may be lost in between:
	// no early redelivery (the harness's 2 s fills the mirror's queue with
	// copies when acks are slow under -race on a loaded machine), and the
	// conversation is taken in rounds (below).
	h := newHarness(t, slackemu.Config{RedeliveryDelay: time.Minute})
	chA := h.bound("qa-1")
	chB := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-1-war-room", Members: []string{h.alice.ID, h.bob.ID, h.emu.BotUserID()}})
	_, err := h.svc.BindChannel(t.Context(), jobs.System, jobs.ViaAPI, "qa-1", jobs.Channel{ID: chB.ID, Name: chB.Name})
	require.NoError(t, err)
	unbound := h.emu.AddChannel(slackemu.Channel{Name: "random", Members: []string{h.alice.ID, h.emu.BotUserID()}})

	c := newConversation(h, 1)
	for i := range 1000 {
		ch := chA
		if i%4 == 0 {
			ch = chB
		}
		c.step(t, ch, i)
		if i%100 == 99 {
			// Rounds of 100 stay within the mirror's queue (256 a worker).
			// A thousand at once backed up past it on a loaded machine: the
			// socket loop stopped reading, the connection died, and what
			// was on it came again after later messages (out of order,
			// as Slack would; TestBot_MirrorSurvivesKills covers that).
			h.idle()
		}
	}
	_, err = h.emu.PostMessage(h.alice.ID, unbound.ID, "not mirrored")
	require.NoError(t, err)
	h.idle()
	t.Logf("connections: %d, redelivered envelopes: %d", h.emu.TotalConnections(), redelivered(h.emu))

	entries := h.messages("qa-1")
	total := len(c.want[chA.ID]) + len(c.want[chB.ID])
	require.Len(t, entries, total, "one entry per message, edit and delete; nothing from the unbound channel")
	require.Equal(t, c.want, got(entries), "same entries, in order per channel")
	for _, e := range entries {
		require.Equal(t, jobs.ViaSlack, e.Via)
		if e.Fields["subtype"] == "file_share" {
			require.Equal(t, "1", e.Fields["files"])
			require.NotEmpty(t, e.Fields["file.1.name"])
			require.NotEmpty(t, e.Fields["file.1.permalink"])
		}
	}
	require.Zero(t, h.emu.DuplicateAcks())
}

// TestBot_MirrorSurvivesKills drops the connection repeatedly while
// messages flow; the emulator redelivers what was not acked, and the log
// ends up with every message exactly once.
func TestBot_MirrorSurvivesKills(t *testing.T) {
	h := newHarness(t, slackemu.Config{RedeliveryDelay: 300 * time.Millisecond})
	ch := h.bound("qa-2")
	c := newConversation(h, 2)
	// Each kill waits for a connection opened since the previous kill: a
	// killed connection stays counted until the emulator's reader for it
	// ends, and under load a second kill could hit that one again instead
	// of the bot's new connection.
	first := h.emu.TotalConnections()
	killed := first - 1
	reconnected := func() bool { return h.emu.TotalConnections() > killed && h.emu.Connections() > 0 }
	for i := range 600 {
		c.step(t, ch, i)
		if i%150 == 75 {
			h.waitFor("a connection opened since the last kill", reconnected)
			killed = h.emu.TotalConnections()
			require.Positive(t, h.emu.KillConnections(), "kill at %d", i)
		}
	}
	h.waitFor("the bot reconnected after the last kill", reconnected)
	h.idle()
	require.GreaterOrEqual(t, h.emu.TotalConnections(), first+4, "the bot reconnected after each of the 4 kills")
	t.Logf("redelivered envelopes: %d", redelivered(h.emu))

	entries := h.messages("qa-2")
	want := c.want[ch.ID]
	require.Len(t, entries, len(want), "nothing lost, nothing doubled")
	require.ElementsMatch(t, want, got(entries)[ch.ID])
}

// TestBot_MirrorRedelivery has Slack redeliver every event almost at once,
// so most messages arrive several times; each is logged once.
func TestBot_MirrorRedelivery(t *testing.T) {
	h := newHarness(t, slackemu.Config{RedeliveryDelay: 2 * time.Millisecond})
	ch := h.bound("qa-3")
	c := newConversation(h, 3)
	for i := range 200 {
		c.step(t, ch, i)
	}
	h.idle()
	require.Positive(t, redelivered(h.emu), "the emulator redelivered")
	want := c.want[ch.ID]
	entries := h.messages("qa-3")
	require.Len(t, entries, len(want))
	require.ElementsMatch(t, want, got(entries)[ch.ID])
}

// TestBot_MirrorRestart replays already mirrored messages to a new bot on
// the same store: nothing is logged twice.
func TestBot_MirrorRestart(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-4")
	c := newConversation(h, 4)
	for i := range 50 {
		c.step(t, ch, i)
	}
	h.idle()
	before := h.messages("qa-4")
	require.Len(t, before, len(c.want[ch.ID]))

	h.stop()
	h.start()
	payloads := map[string]bool{}
	for _, env := range h.emu.Envelopes() {
		if env.Kind == "message" && !payloads[env.EventID] {
			payloads[env.EventID] = true
			_, err := h.emu.SendEvent(eventOf(t, env))
			require.NoError(t, err)
		}
	}
	c.step(t, ch, 1000) // one new action after the replays
	h.idle()
	after := h.messages("qa-4")
	require.Len(t, after, len(before)+1)
	require.Equal(t, before, after[:len(before)])
}

// TestBot_MirrorOwnAndTerminal logs the bot's own messages as "cla" and
// keeps logging in a channel whose job has ended.
func TestBot_MirrorOwnAndTerminal(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-5")
	_, err := h.svc.Progress(t.Context(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-5", jobs.StatusSuccessful, "done")
	require.NoError(t, err)
	_, _, err = h.bot.Client().PostMessage(ch.ID, slack.MsgOptionText("posted by the bot", false))
	require.NoError(t, err)
	_, err = h.emu.PostMessage(h.alice.ID, ch.ID, "after the end")
	require.NoError(t, err)
	h.idle()
	entries := h.messages("qa-5")
	require.Len(t, entries, 1, "what the bot posts is not mirrored back (issue 12 item 9)")
	require.Equal(t, "after the end", entries[0].Text)
	require.Equal(t, "alice", entries[0].Actor, "a terminal job still logs")
}

// eventOf is the inner event an envelope carried, to send it again.
func eventOf(t testing.TB, env slackemu.Envelope) map[string]any {
	var p struct {
		Event map[string]any `json:"event"`
	}
	require.NoError(t, json.Unmarshal(env.Payload, &p))
	return p.Event
}

// redelivered counts envelopes that were redeliveries.
func redelivered(emu *slackemu.Emulator) int {
	n := 0
	for _, env := range emu.Envelopes() {
		if env.RetryAttempt > 0 {
			n++
		}
	}
	return n
}

// TestMirror_FoldsRedeliveries: a redelivery of a message still waiting
// for its append takes no place in the queue; every copy is acked once
// the one append is durable, and a redelivery after that is queued again.
func TestMirror_FoldsRedeliveries(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-fold")
	m := newMirror(h.bot, 1) // its worker starts below, after the copies are in
	acked := make(chan string, 8)
	ackAs := func(name string) func(any) { return func(any) { acked <- name } }
	msg := func() *Incoming {
		return &Incoming{Kind: KindMessage, EventID: "Ev-fold", Channel: ch.ID, User: h.alice.ID, TS: "1700000000.000100", Text: "disk swapped"}
	}
	ctx := h.ctx()
	m.enqueue(ctx, msg(), ackAs("first"))
	m.enqueue(ctx, msg(), ackAs("retry 1"))
	m.enqueue(ctx, msg(), ackAs("retry 2"))
	require.Len(t, m.shards[0], 1, "the redeliveries were folded into the waiting copy")

	workers, stop := context.WithCancel(ctx)
	defer func() { stop(); m.wait() }()
	m.start(workers)
	var got []string
	for range 3 {
		select {
		case name := <-acked:
			got = append(got, name)
		case <-ctx.Done():
			t.Fatalf("acked only %v", got)
		}
	}
	require.ElementsMatch(t, []string{"first", "retry 1", "retry 2"}, got)
	require.Len(t, h.messages("qa-fold"), 1)

	m.enqueue(ctx, msg(), ackAs("after"))
	select {
	case name := <-acked:
		require.Equal(t, "after", name, "a redelivery after the append is queued and acked again")
	case <-ctx.Done():
		t.Fatal("a redelivery after the append was never acked")
	}
	require.Len(t, h.messages("qa-fold"), 1, "and appended once")
}

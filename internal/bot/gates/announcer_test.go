package gates_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// change is one kind of change an announcement shows.
type change string

const (
	chResolution change = "resolution"
	chVote       change = "vote"
	chLate       change = "late attempt"
	chTick       change = "checklist tick"
	chReassign   change = "reassignment"
	chEscalation change = "escalation"
)

// changeSetup is the gate each change is tried on, and what the announcement
// must show right after it.
var changeSetup = map[change]struct {
	cfg  jobs.GateConfig
	want string
}{
	chResolution: {jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}, Timeout: "1m"}, "Swap"},
	chVote:       {jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship", Assignees: []string{"ops"}, Required: 2}, "Approvals: 1 of 2 — <@U0ALICE>"},
	chLate:       {jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"ops"}}, "<@U0ALICE> also tried to complete via"},
	chTick:       {jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}, Checklist: []string{"drain", "swap"}}, "1 of 2 done"},
	chReassign:   {jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}}, "Assigned to <@U0BOB>"},
	chEscalation: {jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}, Escalation: []jobs.Escalation{{After: "1m", Assignees: []string{"bob"}}}}, "Assigned to <@U0ALICE>, <@U0BOB>"},
}

// door is a way into cla; do makes the change through it as alice would
// (the timer acts as cla itself).
type door struct {
	name string
	via  string
	do   func(e *env, c change, id string, m slackemu.Message) error
}

// service is a door that ends in a jobs.Service call with its via: the
// API, the CLI (a client of the API), the web monitor, and @cla mentions
// (the bot's mention handler calls the same methods with ViaSlack).
func service(name, via string) door {
	return door{name, via, func(e *env, c change, id string, _ slackemu.Message) error {
		a := identities[0]
		var err error
		switch c {
		case chResolution, chLate:
			_, _, err = e.svc.Resolve(e.ctx, a, via, id, jobs.Resolution{Action: jobs.ActComplete})
		case chVote:
			_, _, err = e.svc.Resolve(e.ctx, a, via, id, jobs.Resolution{Action: jobs.ActApprove})
		case chTick:
			_, _, err = e.svc.ToggleChecklist(e.ctx, a, via, id, 0, true)
		case chReassign:
			_, _, err = e.svc.Reassign(e.ctx, a, via, id, []string{"bob"})
		}
		return err
	}}
}

var doors = []door{
	{"button", jobs.ViaSlack, func(e *env, c change, _ string, m slackemu.Message) error {
		act := slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS, ActionID: blocks.ActionComplete, Shown: m.Blocks}
		switch c {
		case chVote:
			act.ActionID = blocks.ActionApprove
		case chTick:
			act.ActionID, act.Selected = blocks.ActionChecklist, []string{"0"}
		}
		_, err := e.emu.Act(e.ctx, act)
		return err
	}},
	{"slash command", jobs.ViaSlack, func(e *env, c change, id string, _ slackemu.Message) error {
		text := map[change]string{chResolution: "complete " + id + " done", chLate: "complete " + id + " done",
			chVote: "approve " + id, chReassign: "reassign " + id + " @bob"}[c]
		_, err := e.emu.RunSlashCommand(e.ctx, slackemu.SlashCommand{User: alice, Channel: e.channel,
			Command: "/manual-action", Text: text, Escape: true})
		return err
	}},
	service("mention", jobs.ViaSlack),
	service("api", jobs.ViaAPI),
	service("cli", jobs.ViaCLI),
	service("web", jobs.ViaWeb),
	{"webhook", jobs.ViaWebhook, func(e *env, c change, id string, _ slackemu.Message) error {
		act := jobs.ActComplete
		if c == chVote {
			act = jobs.ActApprove
		}
		_, _, err := e.svc.Resolve(e.ctx, jobs.Webhook, jobs.ViaWebhook, id, jobs.Resolution{Action: act, Gate: "g1", Once: "cb:" + id})
		return err
	}},
	{"timer", jobs.ViaTimeout, func(e *env, _ change, id string, _ slackemu.Message) error {
		e.clock.Add(time.Minute)
		return e.svc.FireTimers(e.ctx, id)
	}},
}

// doorChanges is which changes a door can make.
var doorChanges = map[string][]change{
	"button":        {chResolution, chVote, chLate, chTick},
	"slash command": {chResolution, chVote, chLate, chReassign},
	"mention":       {chResolution, chVote, chLate, chTick, chReassign},
	"api":           {chResolution, chVote, chLate, chTick, chReassign},
	"cli":           {chResolution, chVote, chLate, chTick, chReassign},
	"web":           {chResolution, chVote, chLate, chTick, chReassign},
	"webhook":       {chResolution, chVote, chLate},
	"timer":         {chResolution, chEscalation},
}

// TestAnnouncer_DoorChangeMatrix makes every kind of change through every
// door that can make it and checks that the announcement shows it right
// after, with exactly one chat.update, and none more once the outbox has
// delivered its own notifications.
func TestAnnouncer_DoorChangeMatrix(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	n := 0
	for _, d := range doors {
		for _, c := range doorChanges[d.name] {
			t.Run(d.name+"/"+string(c), func(t *testing.T) {
				n++
				id := fmt.Sprintf("mx-%d", n)
				setup := changeSetup[c]
				m := e.open(id, setup.cfg)
				if c == chLate { // bob resolved it first
					_, _, err := e.svc.Resolve(e.ctx, identities[1], jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActComplete})
					require.NoError(t, err)
					e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "Completed by") })
					e.deliver()
					e.announcer.Wait()
				}
				before := len(updatesOf(e, m))
				err := d.do(e, c, id, m)
				if c == chLate && err != nil { // the button and slash doors answer the person instead
					require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "a late attempt is refused: %v", err)
				} else {
					require.NoError(t, err)
				}

				want := setup.want
				if c == chResolution {
					want = resolvedWant(d)
				}
				if d.via == jobs.ViaWebhook { // the signed link acts as itself
					want = strings.ReplaceAll(want, "<@U0ALICE>", "@webhook")
				}
				got := e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), want) })
				if c == chLate {
					require.Contains(t, text(got.Blocks), "via "+d.via, "the door is named")
				}
				e.deliver() // the outbox's notifications of the same change
				e.announcer.Wait()
				require.Len(t, updatesOf(e, m)[before:], 1, "one chat.update for one change")
			})
		}
	}
}

// resolvedWant is the resolved line a door leaves.
func resolvedWant(d door) string {
	if d.via == jobs.ViaTimeout {
		return "⌛ Timed out at"
	}
	if d.via == jobs.ViaWebhook {
		return "✅ Completed by @webhook via webhook"
	}
	return "✅ Completed by <@U0ALICE> via " + d.via
}

// updatesOf lists the chat.update calls for a message.
func updatesOf(e *env, m slackemu.Message) []slackemu.Call {
	var out []slackemu.Call
	for _, c := range e.emu.Calls("chat.update") {
		if c.Arg("ts") == m.TS && c.Arg("channel") == m.Channel {
			out = append(out, c)
		}
	}
	return out
}

// TestAnnouncer_CallsPerResolution counts every Web API call a resolved
// gate costs, from the click to the outbox's delivery, for a gate
// announced in two channels.
func TestAnnouncer_CallsPerResolution(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	other := e.emu.AddChannel(slackemu.Channel{Name: "ops", Members: []string{e.emu.BotUserID(), alice}})
	cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"},
		Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: other.ID}}}
	for _, tc := range []struct {
		name    string
		resolve func(id string, m slackemu.Message)
	}{
		{"button", func(_ string, m slackemu.Message) {
			_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionComplete)
			require.NoError(t, err)
		}},
		{"api", func(id string, _ slackemu.Message) {
			_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActComplete})
			require.NoError(t, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "calls-" + tc.name
			_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "Deploy " + id})
			require.NoError(t, err)
			c := cfg
			c.Channels = append(c.Channels, jobs.NotifyChannel{Type: "slack", ChannelID: e.channel})
			_, _, err = e.svc.OpenGate(e.ctx, ci, jobs.ViaAPI, id, c)
			require.NoError(t, err)
			e.deliver()
			refs := e.job(id).OpenGate().Messages
			require.Len(t, refs, 2)
			m, _ := e.emu.Message(refs[0].Channel, refs[0].TS)
			e.announcer.Wait()
			e.emu.ResetCalls()
			tc.resolve(id, m)
			e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "Completed by") })
			e.deliver()
			e.announcer.Wait()
			calls := e.emu.Calls("")
			var methods, writes []string
			for _, c := range calls {
				methods = append(methods, c.Method)
				if !strings.HasPrefix(c.Method, "users.") && !strings.HasPrefix(c.Method, "usergroups.") {
					writes = append(writes, c.Method) // look-ups of who clicked are cached, not announcements
				}
			}
			t.Logf("Web API calls for one resolved gate with 2 announcements (%s): %d %v", tc.name, len(calls), methods)
			require.Equal(t, []string{"chat.update", "chat.update"}, writes, "one chat.update per announcement, nothing else")
		})
	}
}

// TestHandler_StaleClickStress: 100 rounds in which a person clicks the
// buttons an old gate's message still shows while a newer gate of the
// same kind opens; the click never resolves the newer gate.
func TestHandler_StaleClickStress(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "Step", Assignees: []string{"alice"}}
	m := e.open("stress-1", cfg)
	cfg.Channels = []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}
	for round := 1; round <= 100; round++ {
		old := fmt.Sprintf("g%d", round)
		_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "stress-1", jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _, err := e.svc.OpenGate(e.ctx, ci, jobs.ViaAPI, "stress-1", cfg)
			require.NoError(t, err)
		})
		wg.Go(func() {
			_, err := e.emu.Act(e.ctx, slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS,
				ActionID: blocks.ActionComplete, Shown: m.Blocks})
			require.NoError(t, err)
		})
		wg.Wait()
		e.waitEphemeral(alice, fmt.Sprintf("gate %s (Step) of job stress-1 was already resolved", old))
		job := e.job("stress-1")
		newer := job.OpenGate()
		require.NotNil(t, newer, "round %d: the newer gate was resolved by an old message's click", round)
		require.Equal(t, fmt.Sprintf("g%d", round+1), newer.ID)
		e.deliver()
		g := job.Gate(newer.ID)
		if len(g.Messages) == 0 {
			g = e.job("stress-1").Gate(newer.ID)
		}
		require.Len(t, g.Messages, 1)
		m, _ = e.emu.Message(g.Messages[0].Channel, g.Messages[0].TS)
	}
}

// TestAnnouncer_BurstCoalesced: a burst of changes to one gate, against an
// emulator enforcing a strict chat.update limit, is paced and coalesced:
// far fewer rewrites than changes, the last one shows the latest state,
// and Slack answers no 429.
func TestAnnouncer_BurstCoalesced(t *testing.T) {
	strict := slackemu.SlackTiers()
	// One every 0.5 s; Slack's burst is one call larger than the budget's,
	// the headroom ratelimit.WithHeadroom leaves in the server: paced at
	// exactly Slack's limit, a rewrite slowed between its budget and Slack
	// (rendering under -race on a loaded machine) let the next one arrive
	// early and draw a 429.
	strict.Method["chat.update"] = slackemu.RateLimit{PerMinute: 120, Burst: 2}
	limits := ratelimit.SlackTiers()
	limits.Method["chat.update"] = ratelimit.Limit{PerMinute: 120, Burst: 1}
	e := newPacedEnv(t, slackemu.Config{RateLimits: strict}, ratelimit.NewBudget(limits))
	items := make([]string, 20)
	for i := range items {
		items[i] = fmt.Sprintf("item %d", i+1)
	}
	m := e.open("burst-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Many", Assignees: []string{"alice"}, Checklist: items})
	e.emu.ResetCalls()
	for i := range items {
		_, _, err := e.svc.ToggleChecklist(e.ctx, identities[0], jobs.ViaAPI, "burst-1", i, true)
		require.NoError(t, err)
	}
	e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "20 of 20 done") })
	e.announcer.Wait()
	updates := e.emu.Calls("chat.update")
	t.Logf("%d changes, %d chat.update calls", len(items), len(updates))
	require.Less(t, len(updates), len(items)/2, "rewrites coalesced")
	for _, c := range e.emu.Calls("") {
		require.NotEqual(t, http.StatusTooManyRequests, c.Status, "%s drew a 429", c.Method)
	}
}

// TestAnnouncer_ResyncAfterDrops: a flood of events past the announcer's
// buffer is counted, and the announcement still ends up right.
func TestAnnouncer_ResyncAfterDrops(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("resync-1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship", Assignees: []string{"ops"}, Required: 3})
	e.open("other-1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Other", Assignees: []string{"ops"}})
	e.announcer.Wait()
	// Stop the announcer's loop at another gate's rewrite, flood the broker
	// far past its buffer, vote (that event is dropped), and let go: only a
	// resync can show the vote.
	release := gates.HoldAnnouncer(e.announcer)
	job, err := e.svc.GetJob(e.ctx, "other-1")
	require.NoError(t, err)
	e.svc.Broker().Publish(jobs.Event{Type: jobs.EventGateVoted, Job: job, Gate: job.Gates[0]})
	for range 5000 {
		e.svc.Broker().Publish(jobs.Event{Type: jobs.EventLogAppended, Job: &jobs.Job{ID: "noise"}})
	}
	_, _, err = e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "resync-1", jobs.Resolution{Action: jobs.ActApprove})
	release()
	require.NoError(t, err)
	require.Positive(t, e.svc.Broker().Dropped(), "the flood was counted")
	e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "Approvals: 1 of 3") })
}

// TestAnnouncer_HungCallStallsNothingElse: a chat.update that Slack never
// answers holds up its own gate only; another gate's announcement is
// rewritten meanwhile.
func TestAnnouncer_HungCallStallsNothingElse(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}}
	m1 := e.open("hung-1", cfg)
	m2 := e.open("hung-2", cfg)
	hanging := make(chan string, 1)
	e.emu.InjectFault("chat.update", slackemu.Fault{Latency: time.Hour, Times: 1, Applied: hanging}) // the next update hangs
	_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "hung-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	select {
	case <-hanging: // hung-1's update has reached Slack and hangs
	case <-e.ctx.Done():
		t.Fatal("hung-1's update never reached Slack")
	}
	// Resolved through the API, hung-2's message is rewritten by the
	// announcer alone (a click's own handler would rewrite it too), while
	// hung-1's rewrite still hangs.
	_, _, err = e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "hung-2", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	e.waitMessage(m2, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "Completed by <@U0ALICE> via api")
	})
	for _, c := range e.emu.Calls("chat.update") { // recorded once answered
		require.NotEqual(t, m1.TS, c.Arg("ts"), "hung-1's update was still hanging meanwhile")
	}
}

// TestAnnouncer_CallOutlivesItsRewriteDeadline: a chat.update that got its
// rate slot runs to Slack's answer even when its rewrite's own deadline
// passes meanwhile, so the announcer records what the message shows and
// the outbox's durable rewrite sends nothing more. (Cut off on its way,
// the update was applied by Slack but not recorded, and the outbox sent
// it again: BenchmarkSlackResolve saw 10,002 updates for 10,000 gates.)
func TestAnnouncer_CallOutlivesItsRewriteDeadline(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	gates.SetRewriteTimeout(e.announcer, 50*time.Millisecond)
	m := e.open("slow-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"alice"}})
	e.emu.InjectFault("chat.update", slackemu.Fault{AfterEffect: true, Latency: 500 * time.Millisecond, Times: 1})
	_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "slow-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for len(e.emu.Calls("chat.update")) == 0 { // recorded once Slack answered
		require.True(t, time.Now().Before(deadline), "the announcer's update never reached Slack")
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time
	}
	e.deliver() // the outbox's durable gate_resolved rewrite
	updates := 0
	for _, c := range e.emu.Calls("chat.update") {
		if c.Arg("ts") == m.TS {
			updates++
		}
	}
	require.Equal(t, 1, updates, "the message was rewritten once")
	e.waitMessage(m, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "Completed by <@U0ALICE> via api")
	})
}

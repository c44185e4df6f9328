package gates_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

func TestHandler_Click(t *testing.T) {
	tests := []struct {
		kind    jobs.GateKind
		buttons []string
		click   string
		status  jobs.Status
		line    string
	}{
		{jobs.KindAction, []string{blocks.ActionComplete, blocks.ActionFail}, blocks.ActionComplete, jobs.StatusInProgress, "✅ Completed by <@U0ALICE> via slack"},
		{jobs.KindApproval, []string{blocks.ActionApprove, blocks.ActionReject}, blocks.ActionReject, jobs.StatusRejected, "⛔ Rejected by <@U0ALICE> via slack"},
		{jobs.KindPause, []string{blocks.ActionResume}, blocks.ActionResume, jobs.StatusInProgress, "▶️ Resumed by <@U0ALICE> via slack"},
		{jobs.KindTrap, []string{blocks.ActionRetry, blocks.ActionSkip, blocks.ActionAbort}, blocks.ActionAbort, jobs.StatusFailure, "🛑 Aborted by <@U0ALICE> via slack"},
	}
	e := newEnv(t, slackemu.Config{})
	for i, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			id := "qa-" + string(tt.kind)
			m := e.open(id, jobs.GateConfig{Kind: tt.kind, Name: "Step " + string(tt.kind), Assignees: []string{"alice"}})
			require.Equal(t, append(tt.buttons, blocks.ActionView), actionIDs(t, m.Blocks))
			require.Contains(t, string(m.Blocks), `"value":"`+id+`"`)

			_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, tt.click)
			require.NoError(t, err)
			job := e.waitJob(id, func(j *jobs.Job) bool { return j.OpenGate() == nil })
			require.Equal(t, tt.status, job.Status)
			require.Equal(t, "alice", *job.LastGate().ResolvedBy)
			require.Equal(t, jobs.ViaSlack, *job.LastGate().ResolvedVia)
			if tt.kind == jobs.KindAction { // the RFC's Slack metadata and message
				require.Equal(t, map[string]string{"manual-action/name": "Step action", "manual-action/description": "",
					"manual-action/completed-by": "alice", "manual-action/completed-via": "slack",
					"manual-action/completed-at":     job.Metadata["manual-action/completed-at"],
					"manual-action/slack-user-id":    alice,
					"manual-action/slack-channel-id": m.Channel}, job.Metadata)
				require.NotEmpty(t, job.Metadata["manual-action/completed-at"])
				require.Equal(t, "Completed by alice via Slack", job.Message)
			}

			got := e.waitMessage(m, func(x slackemu.Message) bool { return x.EditedTS != "" })
			require.Equal(t, []string{blocks.ActionView}, actionIDs(t, got.Blocks), "buttons removed")
			require.Contains(t, text(got.Blocks), tt.line)
			e.deliver() // gate_resolved through the outbox: the same rewrite again
			require.Len(t, e.emu.Messages(e.channel), i+1, "no new message, only updates")
		})
	}
}

func TestHandler_ClickApprovalQuorum(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-2", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release", Assignees: []string{"ops"}, Required: 2})

	_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionApprove)
	require.NoError(t, err)
	m = e.waitMessage(m, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "Approvals: 1 of 2 — <@U0ALICE>")
	})
	require.Contains(t, actionIDs(t, m.Blocks), blocks.ActionApprove, "still open")

	_, err = e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionApprove)
	require.NoError(t, err)
	e.waitEphemeral(alice, "alice already approved")

	_, err = e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionApprove)
	require.NoError(t, err)
	job := e.waitJob("qa-2", func(j *jobs.Job) bool { return j.OpenGate() == nil })
	require.Equal(t, jobs.StatusInProgress, job.Status)
	got := e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "✅ Approved by <@U0BOB>") })
	require.Contains(t, text(got.Blocks), "Approvals: 2 of 2 — <@U0ALICE>, <@U0BOB>")
}

func TestHandler_ClickNotAssignee(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-3", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}})
	e.emu.ResetCalls()
	before := e.job("qa-3").Version

	_, err := e.emu.ClickButton(e.ctx, carol, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitEphemeral(carol, "slack:U0CAROL is not an assignee")
	require.Equal(t, before, e.job("qa-3").Version, "nothing changed")
	require.Empty(t, e.emu.Calls("chat.update"))
	require.Equal(t, m.Blocks, e.current(m).Blocks)
}

func TestHandler_ClickRace(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-4", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, u := range []string{alice, bob} {
		wg.Add(1)
		go func() { // require may not stop the test from another goroutine
			defer wg.Done()
			_, err := e.emu.ClickButton(e.ctx, u, m.Channel, m.TS, blocks.ActionComplete)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	job := e.waitJob("qa-4", func(j *jobs.Job) bool { return j.OpenGate() == nil })
	winner := *job.LastGate().ResolvedBy
	loser := map[string]string{"alice": bob, "bob": alice}[winner]
	require.NotEmpty(t, loser)
	e.waitEphemeral(loser, "already resolved (successful) by "+winner+" via slack")
	e.waitMessage(m, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "also tried to complete via slack")
	})
}

func TestHandler_ClickChecklist(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-5", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"},
		Checklist: []string{"Drain", "Swap", "Rebuild"}})
	block := blocks.BlockID("qa-5", "g1", blocks.ChecklistPart(0))

	_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitEphemeral(alice, "tick every checklist item first")

	_, err = e.emu.Act(e.ctx, slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS,
		ActionID: blocks.ActionChecklist, BlockID: block, Selected: []string{"0", "2"}})
	require.NoError(t, err)
	m = e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "2 of 3 done") })
	g := e.job("qa-5").OpenGate()
	require.True(t, g.Checked(0) && !g.Checked(1) && g.Checked(2))

	_, err = e.emu.Act(e.ctx, slackemu.Action{User: carol, Channel: m.Channel, MessageTS: m.TS,
		ActionID: blocks.ActionChecklist, BlockID: block, Selected: []string{"0", "1", "2"}})
	require.NoError(t, err)
	e.waitEphemeral(carol, "is not an assignee")
	require.False(t, e.job("qa-5").OpenGate().Checked(1), "carol's tick refused")

	_, err = e.emu.Act(e.ctx, slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS,
		ActionID: blocks.ActionChecklist, BlockID: block, Selected: []string{"0", "1", "2"}})
	require.NoError(t, err)
	m = e.waitMessage(m, func(x slackemu.Message) bool { return strings.Contains(text(x.Blocks), "3 of 3 done") })
	_, err = e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitJob("qa-5", func(j *jobs.Job) bool { return j.OpenGate() == nil })

	log, err := e.svc.Log(e.ctx, "qa-5", 0, 100)
	require.NoError(t, err)
	var ticks []string
	for _, l := range log {
		if strings.Contains(l.Text, "checklist item") {
			ticks = append(ticks, l.Actor+": "+l.Text)
		}
	}
	require.Equal(t, []string{"alice: ticked checklist item 1: Drain", "alice: ticked checklist item 3: Rebuild",
		"alice: ticked checklist item 2: Swap"}, ticks)
}

func TestHandler_ClickStaleMessage(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-6", jobs.GateConfig{Kind: jobs.KindAction, Name: "First", Assignees: []string{"alice"}})
	_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "qa-6", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)
	_, _, err = e.svc.OpenGate(e.ctx, ci, jobs.ViaAPI, "qa-6", jobs.GateConfig{Kind: jobs.KindAction, Name: "Second", Assignees: []string{"alice"}})
	require.NoError(t, err)

	_, err = e.emu.Act(e.ctx, slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS,
		ActionID: blocks.ActionComplete, Shown: m.Blocks}) // g1's old buttons, still on alice's screen
	require.NoError(t, err)
	e.waitEphemeral(alice, "(First) of job qa-6 was already resolved")
	require.Equal(t, jobs.GateOpen, e.job("qa-6").Gate("g2").State, "the newer gate is untouched")
}

// TestHandler_ClickUserGroupAssignee lets a member of a Slack user group
// resolve a gate assigned to the group's handle, as @cla mentions do, and
// shows the gate in their /manual-action list.
func TestHandler_ClickUserGroupAssignee(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.emu.AddUserGroup(slackemu.UserGroup{Handle: "sre", Users: []string{carol}})
	m := e.open("qa-7", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"@sre"}})

	reply, err := e.handler.Slash(e.ctx, gates.Command{UserID: carol, Text: "list"})
	require.NoError(t, err)
	require.Contains(t, reply.Text, "`qa-7`", "the group's gate waits on its member")

	_, err = e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitEphemeral(bob, "bob is not an assignee")

	_, err = e.emu.ClickButton(e.ctx, carol, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	job := e.waitJob("qa-7", func(j *jobs.Job) bool { return j.OpenGate() == nil })
	require.Equal(t, "slack:"+carol, *job.LastGate().ResolvedBy)
}

// TestHandler_ClickRateLimited waits out a 429 on the answer to a click:
// nobody would retry it later.
func TestHandler_ClickRateLimited(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-8", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}})
	e.emu.InjectFault("chat.postEphemeral", slackemu.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	_, err := e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	c, err := e.emu.WaitCall(ctx, "chat.postEphemeral", func(c slackemu.Call) bool { return c.OK() })
	require.NoError(t, err)
	require.Contains(t, c.Arg("text"), "bob is not an assignee")
	require.Len(t, e.emu.Calls("chat.postEphemeral"), 2, "one 429, one delivery")
}

// TestHandler_ClickBadInput sends clicks no honest message carries (an
// unknown or malformed job id, a block id naming another gate, checklist
// options out of range): each is answered to the person alone, or
// ignored, and none changes the job.
func TestHandler_ClickBadInput(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-9", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"},
		Checklist: []string{"Drain", "Swap"}})
	tests := []struct {
		name string
		c    gates.Click
		want string // the ephemeral answer; "" means none
	}{
		{"complete unknown job", gates.Click{ActionID: blocks.ActionComplete, Value: "qa-404"}, "qa-404"},
		{"fail unknown job", gates.Click{ActionID: blocks.ActionFail, Value: "qa-404"}, "qa-404"},
		{"approve malformed job id", gates.Click{ActionID: blocks.ActionApprove, Value: "../qa-9"}, `job id "../qa-9" is not valid`},
		{"empty job id", gates.Click{ActionID: blocks.ActionComplete}, `job id "" is not valid`},
		{"wrong kind for the gate", gates.Click{ActionID: blocks.ActionApprove, Value: "qa-9"}, "not an approval gate"},
		{"checklist of unknown job", gates.Click{ActionID: blocks.ActionChecklist, BlockID: "qa-404/g1/checklist-0",
			SelectedOptions: []string{"0"}}, "qa-404"},
		{"checklist of unknown gate", gates.Click{ActionID: blocks.ActionChecklist, BlockID: "qa-9/g7/checklist-0",
			SelectedOptions: []string{"0"}}, "Job qa-9 has no gate g7"},
		{"checklist without a part", gates.Click{ActionID: blocks.ActionChecklist, BlockID: "qa-9/g1/x",
			SelectedOptions: []string{"0"}}, ""},
		{"checklist negative part", gates.Click{ActionID: blocks.ActionChecklist, BlockID: "qa-9/g1/checklist--1",
			SelectedOptions: []string{"0"}}, ""},
		{"checklist options out of range", gates.Click{ActionID: blocks.ActionChecklist, BlockID: "qa-9/g1/checklist-0",
			SelectedOptions: []string{"-1", "2", "99", "x"}}, ""},
		{"unknown action", gates.Click{ActionID: "manual_action_explode", Value: "qa-9"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.job("qa-9")
			n := len(e.emu.Ephemerals(alice))
			tt.c.UserID, tt.c.ChannelID = alice, e.channel
			require.NoError(t, e.handler.Click(e.ctx, tt.c))
			got := e.emu.Ephemerals(alice)[n:]
			if tt.want == "" {
				require.Empty(t, got)
			} else {
				require.Len(t, got, 1)
				require.Contains(t, got[0].Text, tt.want)
			}
			after := e.job("qa-9")
			require.Equal(t, before.Version, after.Version, "the job is unchanged")
			require.Equal(t, jobs.GateOpen, after.OpenGate().State)
			require.False(t, after.OpenGate().Checked(0) || after.OpenGate().Checked(1))
		})
	}
}

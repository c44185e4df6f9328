package gates_test

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// TestHandler_UnknownUsers walks slack.unknownUsers through every gate
// door for carol, who is in no identity, on a gate assigned to her own
// Slack id (so that assignment is never the reason): readonly lets her
// read and refuses every decision with the config key that would allow
// it; deny refuses reading too; allow lets her act.
func TestHandler_UnknownUsers(t *testing.T) {
	refusedAct := "slack.unknownUsers: allow"
	tests := []struct {
		policy people.UnknownUsers
		read   bool // help, list, show, App Home
		act    bool // click, slash, modal
	}{
		{people.UnknownReadOnly, true, false},
		{people.UnknownDeny, false, false},
		{people.UnknownAllow, true, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.policy), func(t *testing.T) {
			e := newPolicyEnv(t, slackemu.Config{}, nil, envOptions{policy: tc.policy})
			m := e.open("qa-80", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{carol}})
			before := e.job("qa-80").Version

			for _, verb := range []string{"help", "list", "show qa-80"} {
				reply, err := e.handler.Slash(e.ctx, gates.Command{UserID: carol, Text: verb})
				require.NoError(t, err)
				if tc.read {
					require.NotContains(t, reply.Text, "slack.unknownUsers", verb)
				} else {
					require.Contains(t, reply.Text, "slack.unknownUsers: readonly", verb)
				}
			}
			_, err := e.emu.OpenAppHome(carol)
			require.NoError(t, err)
			if tc.read {
				e.waitHome(carol, "Swap disk")
			} else {
				home := e.waitHome(carol, "slack.unknownUsers")
				require.NotContains(t, text(home.Blocks), "Swap disk", "nothing of the job shows")
			}

			// Submitting a modal (one opened before the policy changed, or forged).
			resp, err := e.handler.Submit(e.ctx, gates.Submission{UserID: carol, CallbackID: blocks.CallbackFailure,
				PrivateMetadata: "qa-80/g1", Values: map[string]map[string]string{blocks.BlockFailureReason: {"r": "broken"}}})
			require.NoError(t, err)
			reply, err := e.handler.Slash(e.ctx, gates.Command{UserID: carol, ChannelID: e.channel, Text: "reassign qa-80 <@U0ALICE>"})
			require.NoError(t, err)
			if !tc.act {
				require.NotNil(t, resp, "the modal stays open with the refusal")
				require.Contains(t, resp.Errors[blocks.BlockFailureReason], "unknownUsers")
				require.Contains(t, reply.Text, "slack.unknownUsers", "reassigning is deciding")
				_, err = e.emu.ClickButton(e.ctx, carol, m.Channel, m.TS, blocks.ActionComplete)
				require.NoError(t, err)
				e.waitEphemeral(carol, map[bool]string{true: refusedAct, false: "slack.unknownUsers: readonly"}[tc.read])
				reply, err = e.handler.Slash(e.ctx, gates.Command{UserID: carol, Text: "complete qa-80 done"})
				require.NoError(t, err)
				require.Contains(t, reply.Text, "slack.unknownUsers")
				require.Equal(t, before, e.job("qa-80").Version, "nothing changed")
				return
			}
			require.Nil(t, resp, "allowed: the failure is recorded and the modal closes")
			job := e.waitJob("qa-80", func(j *jobs.Job) bool { return j.OpenGate() == nil })
			require.Equal(t, "slack:"+carol, *job.LastGate().ResolvedBy)
		})
	}
}

// TestHandler_PrecheckIsTheServiceRule: a gate opened without assignees
// on a server that restricts those (the default) is refused to bob, who is
// configured but neither admin nor resolveUnassigned. Before, the button's
// pre-check used "anyone may resolve an unassigned gate" and opened the
// evidence form that the service then refused; now the click is answered
// with the service's own refusal and no form opens.
func TestHandler_PrecheckIsTheServiceRule(t *testing.T) {
	e := newPolicyEnv(t, slackemu.Config{}, nil, envOptions{policy: people.UnknownAllow, restrictUnassigned: true})
	m := e.open("qa-81", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", RequireEvidence: true})
	require.Empty(t, e.job("qa-81").OpenGate().AllAssignees())
	e.emu.ResetCalls()

	job := e.job("qa-81")
	bobID, ok := jobs.NewDirectory(identities).ByName("bob")
	require.True(t, ok)
	apiErr := e.svc.MayResolve(bobID, jobs.ViaAPI, job, job.OpenGate(), jobs.ActComplete)
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(apiErr))
	_, _, resolveErr := e.svc.Resolve(e.ctx, bobID, jobs.ViaAPI, "qa-81", jobs.Resolution{Action: jobs.ActComplete,
		Evidence: &jobs.Evidence{Message: "done"}})
	require.Equal(t, jobs.ErrorMessage(resolveErr), jobs.ErrorMessage(apiErr), "one rule")

	_, err := e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	c := e.waitEphemeral(bob, jobs.ErrorMessage(apiErr))
	require.Contains(t, c.Arg("text"), "resolveUnassigned", "the hint names the right that would allow it")
	require.Empty(t, e.emu.Calls("views.open"), "no form opens for a click the service refuses")
	require.Equal(t, jobs.GateOpen, e.job("qa-81").OpenGate().State)

	// root (admin) passes the same pre-check: the form opens.
	e.emu.AddUser(slackemu.User{ID: root, Name: "root"})
	require.NoError(t, e.emu.Join(e.channel, root))
	_, err = e.emu.ClickButton(e.ctx, root, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	_, err = e.emu.WaitCall(ctx, "views.open", func(c slackemu.Call) bool { return c.OK() })
	require.NoError(t, err)
}

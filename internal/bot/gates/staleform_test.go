package gates_test

import (
	"testing"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// TestHandler_ClickStaleMessageOpensNoForm: Complete (evidence) and Fail
// on an old message open a form, and that form must be for the gate the
// message showed. When that gate is closed and a newer one is open, the
// click is refused like any other stale click, and no form for the newer
// gate (which the person never saw) opens.
func TestHandler_ClickStaleMessageOpensNoForm(t *testing.T) {
	for _, action := range []string{blocks.ActionComplete, blocks.ActionFail} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t, slackemu.Config{})
			m := e.open("qa-60", jobs.GateConfig{Kind: jobs.KindAction, Name: "First", Assignees: []string{"alice"}})
			_, _, err := e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "qa-60", jobs.Resolution{Action: jobs.ActComplete})
			require.NoError(t, err)
			_, _, err = e.svc.OpenGate(e.ctx, ci, jobs.ViaAPI, "qa-60", jobs.GateConfig{Kind: jobs.KindAction, Name: "Second",
				Assignees: []string{"alice"}, RequireEvidence: true})
			require.NoError(t, err)

			_, err = e.emu.Act(e.ctx, slackemu.Action{User: alice, Channel: m.Channel, MessageTS: m.TS,
				ActionID: action, Shown: m.Blocks}) // g1's old buttons, still on alice's screen
			require.NoError(t, err)
			e.waitEphemeral(alice, "(First) of job qa-60 was already resolved")
			require.Empty(t, e.emu.Calls("views.open"), "no form for the newer gate")
			require.Equal(t, jobs.GateOpen, e.job("qa-60").Gate("g2").State, "the newer gate is untouched")
		})
	}
}

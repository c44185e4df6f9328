package gates_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// waitModal waits for the modal opened with a callback id.
func (e *env) waitModal(callback string) slackemu.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	v, err := e.emu.WaitView(ctx, func(v slackemu.View) bool { return v.Type == "modal" && v.CallbackID == callback && !v.Closed })
	require.NoError(e.t, err)
	return v
}

func TestHandler_SubmitEvidence(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-10", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}, RequireEvidence: true})

	_, err := e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	v := e.waitModal(blocks.CallbackEvidence)
	require.JSONEq(t, `{"job_id": "qa-10", "gate_id": "g1"}`, v.PrivateMetadata, "the RFC's private_metadata plus the gate")
	require.Equal(t, jobs.GateOpen, e.job("qa-10").OpenGate().State, "opening the modal changes nothing")

	ack, err := e.emu.SubmitView(e.ctx, slackemu.Submission{ViewID: v.ID, Values: map[string]map[string]string{
		blocks.BlockEvidenceMessage: {blocks.InputEvidenceMessage: "swapped"},
		blocks.BlockEvidenceURL:     {blocks.InputEvidenceURL: "https://tickets.example/OPS|1"},
	}})
	require.NoError(t, err)
	require.Contains(t, string(ack.Payload), `"response_action":"errors"`)
	require.Contains(t, string(ack.Payload), `"evidence_url":"Enter a full link`)
	require.Equal(t, jobs.GateOpen, e.job("qa-10").OpenGate().State)

	ack, err = e.emu.SubmitView(e.ctx, slackemu.Submission{ViewID: v.ID, Values: map[string]map[string]string{
		blocks.BlockEvidenceMessage: {blocks.InputEvidenceMessage: "swapped, RAID rebuilt"},
		blocks.BlockEvidenceURL:     {blocks.InputEvidenceURL: "https://tickets.example/OPS-1"},
	}})
	require.NoError(t, err)
	require.NotContains(t, string(ack.Payload), "errors")
	g := e.job("qa-10").LastGate()
	require.Equal(t, jobs.OutcomeSuccessful, *g.Outcome)
	require.Equal(t, "bob", *g.ResolvedBy)
	require.Equal(t, &jobs.Evidence{Message: "swapped, RAID rebuilt", URL: "https://tickets.example/OPS-1"}, g.Evidence)
	meta := e.job("qa-10").Metadata
	require.Equal(t, "slack", meta["manual-action/completed-via"])
	require.Equal(t, bob, meta["manual-action/slack-user-id"])
	require.Equal(t, "swapped, RAID rebuilt https://tickets.example/OPS-1", meta["manual-action/evidence"])

	e.deliver() // the outbox's gate_resolved rewrites the announcement
	got := text(e.current(m).Blocks)
	require.Contains(t, got, "✅ Completed by <@U0BOB> via slack")
	require.Contains(t, got, "💬 swapped, RAID rebuilt")
	require.Contains(t, got, "🔗 <https://tickets.example/OPS-1|evidence>")
}

func TestHandler_SubmitFailure(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	m := e.open("qa-11", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}})
	_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionFail)
	require.NoError(t, err)
	v := e.waitModal(blocks.CallbackFailure)
	_, _, err = e.svc.Resolve(e.ctx, identities[0], jobs.ViaAPI, "qa-11", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err) // completed elsewhere while the modal was open

	ack, err := e.emu.SubmitView(e.ctx, slackemu.Submission{ViewID: v.ID, Values: map[string]map[string]string{
		blocks.BlockFailureReason: {blocks.BlockFailureReason: "disk model wrong"}}})
	require.NoError(t, err)
	require.Contains(t, string(ack.Payload), `"failure_reason":"`)
	require.Contains(t, string(ack.Payload), "already resolved (successful) by alice via api")
	require.Equal(t, jobs.OutcomeSuccessful, *e.job("qa-11").LastGate().Outcome, "unchanged")
}

func TestHandler_ClickExpiredTrigger(t *testing.T) {
	e := newEnv(t, slackemu.Config{TriggerTTL: time.Nanosecond})
	m := e.open("qa-12", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}, RequireEvidence: true})
	_, err := e.emu.ClickButton(e.ctx, alice, m.Channel, m.TS, blocks.ActionComplete)
	require.NoError(t, err)
	e.waitEphemeral(alice, "use `/manual-action complete qa-12 &lt;what you did&gt;` instead")
	c, _ := e.emu.WaitCall(e.ctx, "views.open", nil)
	require.Equal(t, "expired_trigger_id", c.Error)
	require.Equal(t, jobs.GateOpen, e.job("qa-12").OpenGate().State)
}

func TestHandler_Submit(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-13", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}, RequireEvidence: true})
	ev := func(msg, url string) map[string]map[string]string {
		return map[string]map[string]string{blocks.BlockEvidenceMessage: {"x": msg}, blocks.BlockEvidenceURL: {"y": url}}
	}
	tests := []struct {
		name     string
		s        gates.Submission
		wantErrs map[string]string // field -> substring; nil means accepted
		wantErr  bool
	}{
		{"empty message", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1", Values: ev("  ", "")},
			map[string]string{blocks.BlockEvidenceMessage: "Describe what you did"}, false},
		{"invalid url", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1", Values: ev("done", "ftp://x")},
			map[string]string{blocks.BlockEvidenceURL: "https://"}, false},
		{"both bad", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1", Values: ev("", "nope")},
			map[string]string{blocks.BlockEvidenceMessage: "Describe", blocks.BlockEvidenceURL: "https://"}, false},
		{"not an assignee", gates.Submission{UserID: carol, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1", Values: ev("done", "")},
			map[string]string{blocks.BlockEvidenceMessage: "not an assignee"}, false},
		{"other gate", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g9", Values: ev("done", "")},
			map[string]string{blocks.BlockEvidenceMessage: "not the open gate"}, false},
		{"unknown job", gates.Submission{UserID: alice, CallbackID: blocks.CallbackFailure, PrivateMetadata: "qa-99/g1",
			Values: map[string]map[string]string{blocks.BlockFailureReason: {"r": "x"}}},
			map[string]string{blocks.BlockFailureReason: "not found"}, false},
		{"empty reason", gates.Submission{UserID: alice, CallbackID: blocks.CallbackFailure, PrivateMetadata: "qa-13/g1"},
			map[string]string{blocks.BlockFailureReason: "Say what went wrong"}, false},
		{"bad metadata", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "junk"}, nil, true},
		{"metadata without gate", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/", Values: ev("done", "")}, nil, true},
		{"metadata without job", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "/g1", Values: ev("done", "")}, nil, true},
		{"empty metadata", gates.Submission{UserID: alice, CallbackID: blocks.CallbackFailure, Values: map[string]map[string]string{blocks.BlockFailureReason: {"r": "x"}}}, nil, true},
		{"tampered gate path", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1/../g2", Values: ev("done", "")},
			map[string]string{blocks.BlockEvidenceMessage: "not the open gate"}, false},
		{"tampered job id", gates.Submission{UserID: alice, CallbackID: blocks.CallbackFailure, PrivateMetadata: "../qa-13/g1",
			Values: map[string]map[string]string{blocks.BlockFailureReason: {"r": "x"}}},
			map[string]string{blocks.BlockFailureReason: "is not valid"}, false},
		{"oversized metadata", gates.Submission{UserID: alice, CallbackID: blocks.CallbackFailure, PrivateMetadata: strings.Repeat("q", 3000) + "/g1",
			Values: map[string]map[string]string{blocks.BlockFailureReason: {"r": "x"}}},
			map[string]string{blocks.BlockFailureReason: `job id "qqqq`}, false}, // cut to 300 runes
		{"other modal", gates.Submission{UserID: alice, CallbackID: "something_else", PrivateMetadata: "qa-13/g1"}, nil, false},
		{"accepted", gates.Submission{UserID: alice, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-13/g1", Values: ev("done", "http://x.example/1")}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.handler.Submit(e.ctx, tt.s)
			require.Equal(t, tt.wantErr, err != nil, "err %v", err)
			if tt.name != "accepted" {
				require.Equal(t, jobs.GateOpen, e.job("qa-13").Gate("g1").State, "refused submissions change nothing")
			}
			if tt.wantErrs == nil {
				require.Nil(t, resp)
				return
			}
			for _, msg := range resp.Errors {
				require.LessOrEqual(t, utf8.RuneCountInString(msg), 300, "an error fits under the field")
			}
			require.NotNil(t, resp)
			require.Equal(t, "errors", string(resp.ResponseAction))
			require.Len(t, resp.Errors, len(tt.wantErrs))
			for field, want := range tt.wantErrs {
				require.Contains(t, resp.Errors[field], want)
			}
		})
	}
	require.Equal(t, jobs.OutcomeSuccessful, *e.job("qa-13").LastGate().Outcome)
	require.True(t, strings.HasPrefix(*e.job("qa-13").LastGate().ResolvedBy, "alice"))
}

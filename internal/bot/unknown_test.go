package bot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestBot_UnknownUsers is slack.unknownUsers at the mention door and the
// mirror, for bob (in no identity) in a bound job channel with an open
// pause gate nobody is named for: under readonly he may ask for help and
// status, note, and is mirrored, but may not resume the gate nor bind a
// channel (the review's "bound a job to their channel"); under deny he
// gets only the refusal and is not mirrored; alice (configured) is never
// refused.
func TestBot_UnknownUsers(t *testing.T) {
	tests := []struct {
		policy   people.UnknownUsers
		read     bool
		mirrored bool
		refusal  string
	}{
		{people.UnknownReadOnly, true, true, "slack.unknownUsers: allow"},
		{people.UnknownDeny, false, false, "slack.unknownUsers: readonly"},
	}
	for _, tc := range tests {
		t.Run(string(tc.policy), func(t *testing.T) {
			h := newPolicyHarness(t, slackemu.Config{}, tc.policy)
			ch := h.bound("qa-90")
			_, _, err := h.svc.OpenGate(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-90",
				jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold"})
			require.NoError(t, err)

			for _, read := range []string{"help", "status", "note looks fine to me"} {
				got := h.ask(h.bob.ID, ch.ID, read)
				if tc.read {
					require.NotContains(t, got, "slack.unknownUsers", read)
				} else {
					require.Contains(t, got, tc.refusal, read)
				}
			}
			require.Contains(t, h.ask(h.bob.ID, ch.ID, "resume go"), tc.refusal)
			require.Contains(t, h.ask(h.bob.ID, "#general", "add #job-qa-91"), tc.refusal)
			h.job("qa-91", nil)
			require.Contains(t, h.ask(h.bob.ID, "#general", "add #job-qa-91"), tc.refusal, "binding is deciding")

			_, err = h.emu.PostMessage(h.bob.ID, ch.ID, "bob says hi")
			require.NoError(t, err)
			_, err = h.emu.PostMessage(h.alice.ID, ch.ID, "alice says hi")
			require.NoError(t, err)
			h.waitFor("alice mirrored", func() bool {
				for _, e := range h.messages("qa-90") {
					if e.Text == "alice says hi" {
						return true
					}
				}
				return false
			})
			h.idle()
			var bobs int
			for _, e := range h.messages("qa-90") {
				if e.Actor == "slack:"+h.bob.ID {
					bobs++
				}
			}
			if tc.mirrored {
				require.Positive(t, bobs, "readonly users talk and are mirrored")
			} else {
				require.Zero(t, bobs, "deny: nothing of bob's reaches the job log")
			}

			j, err := h.svc.GetJob(context.Background(), "qa-90")
			require.NoError(t, err)
			require.NotNil(t, j.OpenGate(), "bob resolved nothing")
			j91, err := h.svc.GetJob(context.Background(), "qa-91")
			require.NoError(t, err)
			require.Empty(t, j91.Channels, "bob bound nothing")
			require.Equal(t, map[bool]int{true: 1, false: 0}[tc.read], len(j.Annotations), "only readonly notes")

			// alice, configured, is never held to the policy.
			require.NotContains(t, h.ask(h.alice.ID, ch.ID, "status"), "slack.unknownUsers")
		})
	}
}

package talkbot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/people"
)

// TestHandler_UnknownUsers: under slack.unknownUsers readonly, dave (in no
// identity) may list what can be run but runs nothing, even an action
// whose guard would let anyone run it; under deny even the list is
// refused; a configured user is unaffected.
func TestHandler_UnknownUsers(t *testing.T) {
	for _, tc := range []struct {
		policy   people.UnknownUsers
		listWant string
	}{
		{people.UnknownReadOnly, "What you can run"},
		{people.UnknownDeny, "slack.unknownUsers: readonly"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			f := newPolicyFixture(t, true, tc.policy)
			require.NoError(t, f.h.Run(f.ctx, f.ask(dave, f.channel, "")))
			require.NoError(t, f.h.Run(f.ctx, f.ask(dave, f.channel, "probe msg=hi")))
			told := f.ephemerals(dave)
			require.Len(t, told, 2)
			require.Contains(t, told[0], tc.listWant)
			require.Contains(t, told[1], "Nothing was run")
			require.Contains(t, told[1], "slack.unknownUsers")
			require.Nil(t, f.runs(), "nothing ran")

			require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, "probe msg=hi")))
			require.Len(t, f.runs(), 1, "alice, configured, runs")
		})
	}
}

package bot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestBot_DecidingNeedsALookUp: when users.info fails, a mention that
// decides (here "@cla approve") is refused with "try again", as buttons,
// forms and the slash command are. Acting as the bare "slack:<U…>"
// identity instead would let alice, who requested the job, approve it
// herself through the Slack user group the gate names (her configured
// name is what the no-self-approval rule knows), and would count her
// twice toward a quorum. Reading still works as the bare identity.
func TestBot_DecidingNeedsALookUp(t *testing.T) {
	h := newHarness(t, slackemu.Config{}) // slack.unknownUsers: allow
	ctx := context.Background()
	h.emu.AddUserGroup(slackemu.UserGroup{Handle: "release", Users: []string{h.alice.ID, h.bob.ID}})
	_, err := h.svc.CreateJob(ctx, jobs.Identity{Name: "alice", Email: "alice@example.com"}, jobs.ViaAPI,
		jobs.NewJob{ID: "qa-70", Name: "Release"})
	require.NoError(t, err)
	ch := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-70", Members: []string{h.alice.ID, h.bob.ID, h.emu.BotUserID()}})
	_, err = h.svc.BindChannel(ctx, jobs.System, jobs.ViaAPI, "qa-70", jobs.Channel{ID: ch.ID, Name: ch.Name})
	require.NoError(t, err)
	_, _, err = h.svc.OpenGate(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-70",
		jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship", Assignees: []string{"release"}, Required: 2})
	require.NoError(t, err)

	h.emu.InjectFault("users.info", slackemu.Fault{Error: "fatal_error"})
	approvals := func() []jobs.Vote {
		j, err := h.svc.GetJob(ctx, "qa-70")
		require.NoError(t, err)
		g := j.Gate("g1")
		require.NotNil(t, g)
		return g.Approvals
	}
	n := len(h.emu.Ephemerals(h.alice.ID))
	h.mention(h.alice.ID, ch.ID, "approve ship it")
	h.waitFor("an answer or a vote", func() bool { return len(h.emu.Ephemerals(h.alice.ID)) > n || len(approvals()) > 0 })
	require.Empty(t, approvals(), "the requester's vote must not count under another name")
	require.Contains(t, h.ephemeral(h.alice.ID, n+1).Text, "could not look you up in Slack")
	require.Contains(t, h.ask(h.alice.ID, ch.ID, "status"), "Ship", "reading goes on as the bare identity")
}

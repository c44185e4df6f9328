package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// boundChannels returns the ids of the channels bound to a job.
func (h *harness) boundChannels(id string) []string {
	h.t.Helper()
	j, err := h.svc.GetJob(context.Background(), id)
	require.NoError(h.t, err)
	var out []string
	for _, c := range j.Channels {
		out = append(out, c.ID)
	}
	return out
}

// summaryIn waits for the bot's job summary in a channel.
func (h *harness) summaryIn(channel, job string) slackemu.Message {
	h.t.Helper()
	m, err := h.emu.WaitMessage(h.ctx(), channel, func(m slackemu.Message) bool {
		return m.BotID != "" && strings.Contains(m.Text, "*"+job+"*")
	})
	require.NoError(h.t, err)
	return m
}

func TestBot_AddCreatesChannel(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.job("qa-10", nil)
	h.mention(h.alice.ID, "#general", "add #job-qa-10")
	ans := h.ephemeral(h.alice.ID, 1)
	ch, ok := h.emu.ChannelByName("job-qa-10")
	require.True(t, ok, "channel created")
	require.Contains(t, ans.Text, "<#"+ch.ID+">")
	require.Contains(t, ch.Members, h.emu.BotUserID())
	require.Contains(t, ch.Members, h.alice.ID, "the caller is invited")
	require.Equal(t, []string{ch.ID}, h.boundChannels("qa-10"))
	h.summaryIn(ch.ID, "qa-10")
	h.idle()
	require.Empty(t, h.messages("qa-10"), "the bot's own summary is not mirrored back into the log")
	log, err := h.svc.Log(t.Context(), "qa-10", 0, 100)
	require.NoError(t, err)
	require.Contains(t, log[len(log)-2].Text+log[len(log)-1].Text, "bound Slack channel #job-qa-10", "binding is audited")
}

func TestBot_AddExisting(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.job("qa-11", nil)
	h.job("qa-12", nil)
	h.job("qa-13", nil)
	h.job("qa-14", nil)
	link := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-11", Members: []string{h.bob.ID}})
	plain := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-12", Members: []string{h.bob.ID}})
	inside := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-13", Members: []string{h.alice.ID, h.emu.BotUserID()}})
	other := h.emu.AddChannel(slackemu.Channel{Name: "incident-7", Members: []string{h.alice.ID, h.emu.BotUserID()}})
	t.Run("channel link", func(t *testing.T) {
		h.ask(h.alice.ID, "#general", "add #job-qa-11") // the client turns it into <#C…|job-qa-11>
		h.summaryIn(link.ID, "qa-11")
		ch, _ := h.emu.Channel(link.ID)
		require.Contains(t, ch.Members, h.emu.BotUserID(), "the bot joined")
		require.Contains(t, ch.Members, h.alice.ID, "the caller was invited")
		require.Equal(t, []string{link.ID}, h.boundChannels("qa-11"))
	})
	t.Run("plain name of an existing channel", func(t *testing.T) {
		n := len(h.emu.Ephemerals(h.alice.ID))
		_, err := h.emu.Post(slackemu.HumanMessage{User: h.alice.ID, Channel: "#general", Verbatim: true,
			Text: "<@" + h.emu.BotUserID() + "> add #job-qa-12"})
		require.NoError(t, err)
		h.ephemeral(h.alice.ID, n+1)
		h.summaryIn(plain.ID, "qa-12")
		require.Equal(t, []string{plain.ID}, h.boundChannels("qa-12"))
	})
	t.Run("inside the channel", func(t *testing.T) {
		h.ask(h.alice.ID, inside.ID, "add")
		h.summaryIn(inside.ID, "qa-13")
		require.Equal(t, []string{inside.ID}, h.boundChannels("qa-13"))
	})
	t.Run("inside a private channel", func(t *testing.T) {
		h.job("qa-15", nil)
		priv := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-15", Private: true, Members: []string{h.alice.ID, h.emu.BotUserID()}})
		require.Contains(t, h.ask(h.alice.ID, priv.ID, "add"), "is bound to job `qa-15`")
		require.Equal(t, []string{priv.ID}, h.boundChannels("qa-15"))
	})
	t.Run("inside another channel with a job id", func(t *testing.T) {
		h.ask(h.alice.ID, other.ID, "add qa-14")
		h.summaryIn(other.ID, "qa-14")
		require.Equal(t, []string{other.ID}, h.boundChannels("qa-14"))
	})
	t.Run("a second channel for the same job", func(t *testing.T) {
		require.Contains(t, h.ask(h.alice.ID, "#general", "add <#"+other.ID+"|incident-7> qa-14"), "is bound to job `qa-14`",
			"binding twice is fine")
		h.ask(h.alice.ID, "#general", "add #job-qa-14")
		ch, ok := h.emu.ChannelByName("job-qa-14")
		require.True(t, ok)
		require.Equal(t, []string{other.ID, ch.ID}, h.boundChannels("qa-14"))
	})
}

func TestBot_AddErrors(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.job("qa-20", nil)
	taken := h.bound("qa-21")
	notJob := h.emu.AddChannel(slackemu.Channel{Name: "random", Members: []string{h.alice.ID, h.emu.BotUserID()}})
	cases := []struct {
		name, channel, text, want string
	}{
		{"unknown job", "#general", "add #job-nope", "There is no job `nope`"},
		{"bad id", "#general", "add #job-Bad_ID!", "not a valid job id"},
		{"bound to another job", "#general", "add <#" + taken.ID + "|job-qa-21> qa-20", "already bound to job `qa-21`"},
		{"not a job channel", notJob.ID, "add", "#random is not a job channel"},
		{"too many words", "#general", "add a b c", "Usage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, h.ask(h.alice.ID, tc.channel, tc.text), tc.want)
		})
	}
	require.Equal(t, []string{taken.ID}, h.boundChannels("qa-21"))
	require.Empty(t, h.boundChannels("qa-20"))
	_, ok := h.emu.ChannelByName("job-nope")
	require.False(t, ok, "no channel for an unknown job")
}

func TestBot_AddMissingScope(t *testing.T) {
	var scopes []string
	for _, s := range slackemu.DefaultScopes() {
		if s != "channels:manage" && s != "groups:write" {
			scopes = append(scopes, s)
		}
	}
	h := newHarness(t, slackemu.Config{Scopes: scopes})
	h.job("qa-30", nil)
	h.mention(h.alice.ID, "#general", "add #job-qa-30")
	ans := h.ephemeral(h.alice.ID, 1)
	require.Contains(t, ans.Text, "missing the Slack scope `channels:manage`")
	require.Empty(t, h.boundChannels("qa-30"))

	h.job("qa-31", nil)
	priv := h.emu.AddChannel(slackemu.Channel{Name: "job-qa-31", Private: true, Members: []string{h.bob.ID, h.emu.BotUserID()}})
	out := h.ask(h.alice.ID, "#general", "add <#"+priv.ID+"|job-qa-31>")
	require.Contains(t, out, "is bound to job `qa-31`", "a failed invite does not stop the binding")
	require.Contains(t, out, "could not invite you (I'm missing the Slack scope")
}

func TestBot_Commands(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-40")
	_, _, err := h.svc.OpenGate(t.Context(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-40",
		jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}})
	require.NoError(t, err)
	ask := h.ask
	t.Run("help", func(t *testing.T) {
		out := ask(h.alice.ID, "#general", "help")
		for _, c := range []string{"add #job-&lt;id&gt;", "status", "note &lt;text&gt;", "approve [message]"} {
			require.Contains(t, out, c)
		}
	})
	t.Run("unknown command answers with help", func(t *testing.T) {
		out := ask(h.alice.ID, "#general", "dance")
		require.Contains(t, out, `I don't know "dance"`)
		require.Contains(t, out, "note &lt;text&gt;")
	})
	t.Run("status in a bound channel", func(t *testing.T) {
		out := ask(h.alice.ID, ch.ID, "status")
		require.Contains(t, out, "`action_required`")
		require.Contains(t, out, "Swap disk")
	})
	t.Run("status elsewhere", func(t *testing.T) {
		require.Contains(t, ask(h.alice.ID, "#general", "status"), "not bound to a job")
		require.Contains(t, ask(h.alice.ID, "#general", "status qa-40"), "*qa-40*")
	})
	t.Run("note", func(t *testing.T) {
		require.Contains(t, ask(h.alice.ID, ch.ID, `note disk "sdb" swapped & tested`), "Noted")
		j, err := h.svc.GetJob(t.Context(), "qa-40")
		require.NoError(t, err)
		require.Len(t, j.Annotations, 1)
		require.Equal(t, `disk "sdb" swapped & tested`, j.Annotations[0].Preview)
		require.Equal(t, "alice", j.Annotations[0].Actor)
		require.Equal(t, jobs.ViaSlack, j.Annotations[0].Via)
	})
	t.Run("bad notes change nothing", func(t *testing.T) {
		for _, tc := range []struct{ channel, text, want string }{
			{ch.ID, "note", "needs text"},
			{ch.ID, "note  \t ", "needs text"},
			{"#general", "note for no job", "not bound to a job"},
		} {
			require.Contains(t, ask(h.alice.ID, tc.channel, tc.text), tc.want, tc.text)
		}
		j, err := h.svc.GetJob(t.Context(), "qa-40")
		require.NoError(t, err)
		require.Len(t, j.Annotations, 1)
	})
	t.Run("oversized note", func(t *testing.T) {
		long := strings.Repeat("x", 39000) // near Slack's 40,000-character limit
		require.Contains(t, ask(h.alice.ID, ch.ID, "note "+long), "Noted")
		j, err := h.svc.GetJob(t.Context(), "qa-40")
		require.NoError(t, err)
		require.Len(t, j.Annotations, 2)
		require.Less(t, len(j.Annotations[1].Preview), 1000, "the job keeps a preview")
		require.True(t, strings.HasPrefix(j.Annotations[1].Preview, "xxx"))
	})
	t.Run("status of a bad job id", func(t *testing.T) {
		require.Contains(t, ask(h.alice.ID, "#general", "status qa-404"), "qa-404")
		require.Contains(t, ask(h.alice.ID, "#general", "status ../qa-40"), `job id "../qa-40" is not valid`)
	})
	t.Run("resolve refused for a non-assignee", func(t *testing.T) {
		require.Contains(t, ask(h.bob.ID, ch.ID, "complete"), "is not an assignee")
	})
	t.Run("resolve", func(t *testing.T) {
		h.mention(h.alice.ID, ch.ID, "complete swapped it")
		m, err := h.emu.WaitMessage(h.ctx(), ch.ID, func(m slackemu.Message) bool {
			return m.BotID != "" && strings.Contains(m.Text, "successful")
		})
		require.NoError(t, err)
		require.NotEmpty(t, m.ThreadTS, "answered in the thread")
		j, err := h.svc.GetJob(t.Context(), "qa-40")
		require.NoError(t, err)
		g := j.LastGate()
		require.Equal(t, jobs.ViaSlack, *g.ResolvedVia)
		require.Equal(t, "alice", *g.ResolvedBy)
		require.Equal(t, "swapped it", *g.Message)
		require.Equal(t, h.alice.ID, j.Metadata[jobs.MetaSlackUserID], "the RFC's Slack metadata, from a mention too")
		require.Equal(t, ch.ID, j.Metadata[jobs.MetaSlackChannelID])
	})
	t.Run("second resolution is refused", func(t *testing.T) {
		require.Contains(t, ask(h.alice.ID, ch.ID, "fail"), "alice via slack")
	})
}

// TestBot_UserGroupAssignee lets a member of a Slack user group resolve a
// gate assigned to the group's handle.
func TestBot_UserGroupAssignee(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-60")
	carol := h.emu.AddUser(slackemu.User{Email: "carol@example.com", Groups: []string{"sre"}})
	h.emu.AddChannel(slackemu.Channel{Name: ch.Name, Members: []string{carol.ID}})
	_, _, err := h.svc.OpenGate(t.Context(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-60",
		jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold", Assignees: []string{"@sre"}})
	require.NoError(t, err)
	require.Contains(t, h.ask(h.bob.ID, ch.ID, "resume"), "is not an assignee")
	h.mention(carol.ID, ch.ID, "resume go")
	h.waitFor("gate resumed", func() bool {
		j, err := h.svc.GetJob(t.Context(), "qa-60")
		return err == nil && j.OpenGate() == nil
	})
	j, err := h.svc.GetJob(t.Context(), "qa-60")
	require.NoError(t, err)
	require.Equal(t, "slack:"+carol.ID, *j.LastGate().ResolvedBy)
}

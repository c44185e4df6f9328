package gates_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in      string
		want    gates.Request
		wantErr string
	}{
		{"", gates.Request{Verb: "help"}, ""},
		{"  HELP ", gates.Request{Verb: "help"}, ""},
		{"list", gates.Request{Verb: "list"}, ""},
		{"complete qa-1 swapped the disk", gates.Request{Verb: "complete", Job: "qa-1", Text: "swapped the disk", All: "qa-1 swapped the disk"}, ""},
		{"complete", gates.Request{Verb: "complete"}, ""},
		{"Complete Done &amp; dusted &lt;3", gates.Request{Verb: "complete", Text: "Done & dusted <3", All: "Done & dusted <3"}, ""},
		{"fail qa-1", gates.Request{Verb: "fail", Job: "qa-1", All: "qa-1"}, ""},
		{"approve lgtm", gates.Request{Verb: "approve", Job: "lgtm", All: "lgtm"}, ""},
		{"show qa-1", gates.Request{Verb: "show", Job: "qa-1", All: "qa-1"}, ""},
		{"reassign qa-1 <@U0BOB|bob> @ops carol@example.com", gates.Request{Verb: "reassign", Job: "qa-1",
			Text: "<@U0BOB|bob> @ops carol@example.com", All: "qa-1 <@U0BOB|bob> @ops carol@example.com",
			Users: []string{"U0BOB", "ops", "carol@example.com"}}, ""},
		{"reassign <@U0BOB> <!subteam^S01|@sre> <mailto:d@x.io|d@x.io>", gates.Request{Verb: "reassign",
			Text: "<@U0BOB> <!subteam^S01|@sre> <mailto:d@x.io|d@x.io>", All: "<@U0BOB> <!subteam^S01|@sre> <mailto:d@x.io|d@x.io>",
			Users: []string{"U0BOB", "sre", "d@x.io"}}, ""},
		{"run restart service=api", gates.Request{Verb: "run", All: "restart service=api"}, ""},
		{"reassign qa-1", gates.Request{}, "say who to reassign to"},
		{"reassign qa-1 @ ,", gates.Request{}, "say who to reassign to"},
		{"deploy qa-1", gates.Request{}, `unknown command "deploy"`},
		{"approve qa-1 --break-glass sre unreachable &amp; prod down", gates.Request{Verb: "approve", Job: "qa-1", All: "qa-1",
			BreakGlass: "sre unreachable & prod down"}, ""},
		{"complete --break-glass on call confirmed", gates.Request{Verb: "complete", BreakGlass: "on call confirmed"}, ""},
		{"approve qa-1 --break-glass", gates.Request{}, "say why: `/manual-action approve <job> --break-glass <reason>`"},
		{"show qa-1 --break-glass x", gates.Request{}, "--break-glass goes with a verb that resolves a gate"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := gates.ParseCommand(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, gates.ErrUsage)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "complete qa-1 done", "reassign qa-1 <@U1|a> @b", "run x", "fail &lt;", "show \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := gates.ParseCommand(s)
		if err != nil {
			require.ErrorIs(t, err, gates.ErrUsage)
			return
		}
		require.NotEmpty(t, r.Verb)
		if r.Job != "" {
			require.True(t, jobs.ValidID(r.Job), r.Job)
		}
		require.Equal(t, strings.TrimSpace(r.Text), r.Text)
		if r.Verb == "reassign" {
			require.NotEmpty(t, r.Users)
			for _, u := range r.Users {
				require.NotEmpty(t, u)
			}
		}
		again, err := gates.ParseCommand(s)
		require.NoError(t, err)
		require.Equal(t, r, again, "pure")
	})
}

func TestHandler_Slash(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-30", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}})
	e.open("qa-31", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release", Assignees: []string{"ops"}, Required: 2})
	e.open("qa-32", jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold", Assignees: []string{"bob"}})
	e.open("qa-33", jobs.GateConfig{Kind: jobs.KindAction, Name: "Reboot", Assignees: []string{"alice"}})
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-34", Name: "No gate"})
	require.NoError(t, err)
	bound := e.emu.AddChannel(slackemu.Channel{Name: "job-qa-33", Members: []string{e.emu.BotUserID(), alice}})
	_, err = e.svc.BindChannel(e.ctx, ci, jobs.ViaAPI, "qa-33", jobs.Channel{ID: bound.ID, Name: bound.Name})
	require.NoError(t, err)

	tests := []struct {
		name, user, channel, text string
		want                      string
	}{
		{"help", alice, "", "help", "`list` — the open gates waiting on you"},
		{"usage error", alice, "", "frobnicate", `unknown command "frobnicate"`},
		{"list", alice, "", "list", "*3 open gates wait on you:*"},
		{"list nothing", carol, "", "list", "Nothing is waiting on you."},
		{"no job", alice, e.channel, "complete", "Say which job: `/manual-action complete &lt;job&gt; …`"},
		{"unknown job", alice, "", "complete qa-404 done", `There is no job "qa-404".`},
		{"invalid job id", alice, "", "complete ../qa-30 done", "Say which job: `/manual-action complete &lt;job&gt; …`"},
		{"oversized job id", alice, "", "complete " + strings.Repeat("q", 5000) + " done", "Say which job"},
		{"oversized verb", alice, "", strings.Repeat("v", 5000), `unknown command "` + strings.Repeat("v", 39) + `…"`},
		{"show unknown job", alice, "", "show qa-404", `There is no job "qa-404".`},
		{"fail needs reason", alice, "", "fail qa-30", "Say why: `/manual-action fail qa-30 &lt;reason&gt;`."},
		{"reassign to nobody", bob, "", "reassign qa-32", "say who to reassign to: `/manual-action reassign &lt;job&gt; @user…`"},
		{"reassign to blanks", bob, "", "reassign qa-32 @ , ;", "say who to reassign to"},
		{"reassign unknown job", bob, "", "reassign qa-404 alice", `There is no job "qa-404".`},
		{"reassign a job without a gate", alice, "", "reassign qa-34 bob", "has no open gate to reassign"},
		{"not assignee", carol, "", "complete qa-30", "slack:U0CAROL is not an assignee"},
		{"wrong kind", alice, "", "approve qa-30", "is an action gate, not an approval gate"},
		{"show", alice, "", "show qa-31", "Approval needed: Release (job qa-31)"},
		{"approve 1 of 2", alice, "", "approve qa-31 lgtm", "Approved *Release* of job qa-31 (1 of 2 approvals)."},
		{"approve 2 of 2", bob, "", "approve qa-31", "✅ Approved *Release* of job qa-31; the job is now in_progress."},
		{"complete with message", alice, "", "complete qa-30 swapped <https://t.example/1>", "✅ Completed *Swap disk* of job qa-30"},
		{"already", alice, "", "complete qa-30", "already resolved (successful) by alice via slack"},
		{"bound channel, no id", alice, bound.ID, "complete rebooted it", "✅ Completed *Reboot* of job qa-33"},
		{"reassign", bob, "", "reassign qa-32 <@U0CAROL|carol> alice", "Reassigned *Hold* of job qa-32 to <@U0CAROL>, @alice."},
		{"reassign refused", bob, "", "reassign qa-32 bob", "bob may not reassign"},
		{"resume by new assignee", carol, "", "resume qa-32", "▶️ Resumed *Hold* of job qa-32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.handler.Slash(e.ctx, gates.Command{UserID: tt.user, ChannelID: tt.channel, Text: tt.text})
			require.NoError(t, err)
			require.Contains(t, r.Text, tt.want)
			require.Less(t, len(r.Text), 1000, "bad input is not echoed at length")
		})
	}
	g := e.job("qa-30").LastGate()
	require.Equal(t, &jobs.Evidence{Message: "swapped <https://t.example/1>", URL: "https://t.example/1"}, g.Evidence)
	require.Equal(t, "rebooted it", *e.job("qa-33").LastGate().Message)
	require.Equal(t, "slack:U0CAROL", *e.job("qa-32").LastGate().ResolvedBy)
	require.Nil(t, e.job("qa-34").LastGate(), "reassigning a job without a gate opened none")

	_, err = e.handler.Slash(e.ctx, gates.Command{UserID: alice, Text: "run restart service=api"})
	require.True(t, errors.Is(err, gates.ErrNotHandled))
}

// TestHandler_SlashReassignUnknownUser refuses to hand a gate to a Slack
// user that Slack does not know, and leaves the assignees alone.
func TestHandler_SlashReassignUnknownUser(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-35", jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold", Assignees: []string{"bob"}})
	r, err := e.handler.Slash(e.ctx, gates.Command{UserID: bob, Text: "reassign qa-35 <@U0NOBODY|ghost>"})
	require.Error(t, err, "worth logging")
	require.Contains(t, r.Text, "could not look up <@U0NOBODY> in Slack")
	require.Equal(t, []string{"bob"}, e.job("qa-35").OpenGate().Assignees)
}

// TestHandler_SlashBreakGlass: an admin overrides a gate assigned to others
// from Slack; the message says so, the channel is told, others are refused.
func TestHandler_SlashBreakGlass(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.emu.AddUser(slackemu.User{ID: root, Name: "root", Email: "root@example.com"})
	m := e.open("qa-50", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release", Assignees: []string{"ops"}, Required: 2})

	r, err := e.handler.Slash(e.ctx, gates.Command{UserID: carol, Text: "approve qa-50 --break-glass me"})
	require.NoError(t, err)
	require.Contains(t, r.Text, "only admins may break glass")
	require.Contains(t, r.Text, "💡 ask an admin")
	require.Nil(t, e.job("qa-50").LastGate().BreakGlass)

	r, err = e.handler.Slash(e.ctx, gates.Command{UserID: root, Text: "approve qa-50 --break-glass sre paged twice, no answer"})
	require.NoError(t, err)
	require.Contains(t, r.Text, "⚠️ Break-glass: ✅ Approved *Release* of job qa-50")
	g := e.job("qa-50").LastGate()
	require.Equal(t, jobs.OutcomeApproved, *g.Outcome)
	require.Equal(t, &jobs.BreakGlassRecord{By: "root", Reason: "sre paged twice, no answer", At: g.BreakGlass.At, Via: jobs.ViaSlack}, g.BreakGlass)
	e.deliver()
	e.waitMessage(m, func(x slackemu.Message) bool {
		return strings.Contains(text(x.Blocks), "⚠️ Break-glass by <@U0ROOT>: sre paged twice, no answer")
	})
	var notice *slackemu.Message
	for _, x := range e.emu.Messages(e.channel) {
		if strings.HasPrefix(x.Text, "⚠️ Break-glass by <@U0ROOT> on Release (job qa-50)") {
			notice = &x
		}
	}
	require.NotNil(t, notice, "the gate's channel is told")
	require.Equal(t, m.TS, notice.ThreadTS, "in the thread of the announcement")
}

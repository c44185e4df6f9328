package talkbot

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

func TestHandler_Run_HappyPath(t *testing.T) {
	f := newFixture(t, true)
	req := f.ask(alice, f.channel, `probe "msg=hello world" `)
	require.NoError(t, f.h.Run(f.ctx, req))

	require.Equal(t, [][]string{{"hello world", "--job=qa-1", "--user=alice", "--email=alice@example.com",
		"--channel=job-qa-1"}}, f.runs())
	entries := f.talkLog()
	requested, ok := phase(entries, "requested")
	require.True(t, ok)
	require.Equal(t, "allowed", requested.Fields["verdict"])
	require.Equal(t, "alice", requested.Actor)
	require.Equal(t, jobs.ViaSlack, requested.Via)
	_, ok = phase(entries, "started")
	require.True(t, ok)
	done, ok := phase(entries, "finished")
	require.True(t, ok)
	require.Equal(t, "probe", done.Fields["action"])
	require.Equal(t, "0", done.Fields["exit_code"])
	require.Equal(t, "alice", done.Fields["requester"])
	require.Equal(t, "false", done.Fields["timed_out"])
	require.Equal(t, "false", done.Fields["truncated"])
	require.NotEmpty(t, done.Fields["duration"])
	require.Contains(t, done.Fields["argv"], `"hello world" --job=qa-1`)
	require.Contains(t, done.Text, "recorded hello world")

	replies := f.botMessages(f.channel)
	require.Len(t, replies, 1)
	require.Equal(t, req.TS, replies[0].ThreadTS, "the result is a threaded reply")
	require.Contains(t, replies[0].Text, "✅")
	require.Contains(t, replies[0].Text, "exit 0")
	require.Contains(t, replies[0].Text, "```recorded hello world")
	require.Empty(t, f.ephemerals(alice))
	job, err := f.svc.GetJob(f.ctx, jobID)
	require.NoError(t, err)
	require.Empty(t, job.Annotations, "short output is not annotated")
}

func TestHandler_Run_Refusals(t *testing.T) {
	cases := []struct {
		name       string
		configured bool
		user       string
		unbound    bool
		typed      string
		want       string
		logged     bool
	}{
		{name: "unknown action", configured: true, user: alice, typed: "restrat service=api", want: "did you mean: restart", logged: true},
		{name: "missing argument", configured: true, user: alice, typed: "restart", want: "service", logged: true},
		{name: "invalid argument", configured: true, user: alice, typed: `restart "service=api; rm -rf /"`, want: "service", logged: true},
		{name: "shell in a patterned value", configured: true, user: alice, typed: `restart service="api; rm -rf /"`, want: "service", logged: true},
		{name: "unknown argument", configured: true, user: alice, typed: "restart service=api colour=red", want: "colour", logged: true},
		{name: "unbalanced quote", configured: true, user: alice, typed: `probe "msg=oops`, want: "unbalanced quote", logged: true},
		{name: "guard false for user", configured: true, user: dave, typed: "restart service=api", want: "guard", logged: true},
		{name: "guard false for job", configured: true, user: alice, typed: "deploy env=staging", want: "guard", logged: true},
		{name: "unbound channel", configured: true, user: alice, unbound: true, typed: "probe", want: "not bound to a job"},
		{name: "not configured", user: alice, typed: "probe", want: "not configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.configured)
			ch := f.channel
			if tc.unbound {
				ch = f.other
			}
			require.NoError(t, f.h.Run(f.ctx, f.ask(tc.user, ch, tc.typed)))
			told := f.ephemerals(tc.user)
			require.Len(t, told, 1)
			require.Contains(t, told[0], "Nothing was run")
			require.Contains(t, told[0], tc.want)
			require.Nil(t, f.runs(), "nothing may run")
			require.Empty(t, f.botMessages(ch), "a refusal is not posted in the channel")
			entries := f.talkLog()
			_, started := phase(entries, "started")
			require.False(t, started)
			if tc.logged {
				require.Len(t, entries, 1)
				require.Equal(t, "refused", entries[0].Fields["verdict"])
			} else {
				require.Empty(t, entries)
			}
		})
	}
}

func TestHandler_Run_NotConfigured(t *testing.T) {
	cases := map[string]func(h *Handler){
		"registry without list": func(h *Handler) { h.reg = talkback.NewRegistry(nil, nil) },
		"no registry":           func(h *Handler) { h.reg = nil },
		"no executor":           func(h *Handler) { h.exec = nil },
	}
	for name, unset := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, true)
			unset(f.h)
			for _, typed := range []string{"probe", ""} {
				require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, typed)))
			}
			told := f.ephemerals(alice)
			require.Len(t, told, 2)
			for _, text := range told {
				require.Contains(t, text, "not configured")
			}
			require.Nil(t, f.runs())
		})
	}
}

func TestHandler_Run_Injection(t *testing.T) {
	payloads := []string{"$(touch pwned)", "`touch pwned`", "a; touch pwned", "x && touch pwned | cat",
		"<b>&amp;</b>", "'\"; touch pwned #", "${IFS}touch${IFS}pwned"}
	f := newFixture(t, true)
	for i, p := range payloads {
		typed := talkback.Request{Action: "probe", Args: map[string]string{"msg": p}}.String()
		require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, typed)))
		runs := f.runs()
		require.Len(t, runs, i+1, p)
		require.Equal(t, p, runs[i][0], "the value arrives literally as one argument")
		require.Len(t, runs[i], 5)
	}
	entries, err := os.ReadDir(f.dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no pwned file in the workdir")
}

func TestHandler_Run_SlackEscapes(t *testing.T) {
	f := newFixture(t, true)
	typed := `probe "msg=a & b <c> <https://example.com/x?a=1&b=2|example.com/x> <mailto:z@example.com|z@example.com> <https://bare.example>"`
	require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, typed)))
	runs := f.runs()
	require.Len(t, runs, 1)
	require.Equal(t, "a & b <c> example.com/x z@example.com https://bare.example", runs[0][0])
}

func TestHandler_Run_SlashCommand(t *testing.T) {
	f := newFixture(t, true)
	require.NoError(t, f.h.Run(f.ctx, Request{UserID: alice, ChannelID: f.channel, Text: "probe msg=slash"}))
	require.Len(t, f.runs(), 1)
	msgs := f.botMessages(f.channel)
	require.Len(t, msgs, 1)
	require.Empty(t, msgs[0].ThreadTS, "with no ts the result goes to the channel")
}

func TestHandler_Run_UserByEmail(t *testing.T) {
	f := newFixture(t, true)
	require.NoError(t, f.h.Run(f.ctx, f.ask(erin, f.channel, "probe")))
	require.NoError(t, f.h.Run(f.ctx, f.ask(dave, f.channel, "probe")))
	runs := f.runs()
	require.Len(t, runs, 2)
	require.Equal(t, "--user=erin", runs[0][2], "users.info email found the configured identity")
	require.Equal(t, "--user=slack:"+dave, runs[1][2])
	require.Equal(t, "--email=dave@example.com", runs[1][3])
	require.Len(t, f.emu.Calls("users.info"), 2, "one lookup per unconfigured user")
	require.NoError(t, f.h.Run(f.ctx, f.ask(erin, f.channel, "probe")))
	require.Len(t, f.emu.Calls("users.info"), 2, "the email is cached")
	require.Len(t, f.emu.Calls("conversations.info"), 1, "the channel name is cached")
}

func TestHandler_Run_Failure(t *testing.T) {
	f := newFixture(t, true)
	require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, "fail")))
	done, ok := phase(f.talkLog(), "finished")
	require.True(t, ok)
	require.Equal(t, "3", done.Fields["exit_code"])
	msgs := f.botMessages(f.channel)
	require.Len(t, msgs, 1)
	require.Contains(t, msgs[0].Text, "❌")
	require.Contains(t, msgs[0].Text, "exit 3")
}

func TestHandler_Run_LargeOutput(t *testing.T) {
	f := newFixture(t, true)
	require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, "flood")))
	job, err := f.svc.GetJob(f.ctx, jobID)
	require.NoError(t, err)
	require.Len(t, job.Annotations, 1)
	require.Equal(t, jobs.AnnotationLog, job.Annotations[0].Kind)
	require.Greater(t, job.Annotations[0].Size, AnnotateOver)
	done, ok := phase(f.talkLog(), "finished")
	require.True(t, ok)
	require.Contains(t, done.Text, "END-MARKER", "the job log keeps the whole output")

	msgs := f.botMessages(f.channel)
	require.Len(t, msgs, 1)
	text := msgs[0].Text
	start, end := strings.Index(text, "```"), strings.LastIndex(text, "```")
	require.Greater(t, end, start)
	require.LessOrEqual(t, utf8.RuneCountInString(text[start:end+3]), MaxReplyOutput)
	require.Contains(t, text, "output truncated")
	require.NotContains(t, text, "END-MARKER")
	require.NotContains(t, text, "<b>", "output is escaped for Slack")
	require.Contains(t, text, "&lt;b&gt;&amp;amp;")
	require.Equal(t, 2, strings.Count(text, "```"), "``` inside the output cannot close the block")
}

func TestHandler_Run_List(t *testing.T) {
	cases := []struct {
		name      string
		user      string
		gate      bool
		want, not []string
	}{
		{name: "ops in progress", user: alice, want: []string{"*probe*", "*restart*", "*wipe*"}, not: []string{"*deploy*"}},
		{name: "outsider", user: dave, want: []string{"*probe*", "*wipe*"}, not: []string{"*restart*", "*deploy*"}},
		{name: "gate open", user: alice, gate: true, want: []string{"*restart*", "*deploy*"}, not: []string{"*wipe*"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, true)
			if tc.gate {
				f.openGate()
			}
			require.NoError(t, f.h.Run(f.ctx, f.ask(tc.user, f.channel, "")))
			told := f.ephemerals(tc.user)
			require.Len(t, told, 1)
			for _, w := range tc.want {
				require.Contains(t, told[0], w)
			}
			for _, n := range tc.not {
				require.NotContains(t, told[0], n)
			}
			require.Nil(t, f.runs())
			require.Empty(t, f.talkLog())
		})
	}
}

func TestHandler_Run_CanceledAndBusy(t *testing.T) {
	f := newFixture(t, true)
	f.h.exec = talkback.NewExecutor(talkback.ExecutorConfig{MaxPerJob: 1, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan error, 1)
	req := f.ask(alice, f.channel, "hang")
	go func() { done <- f.h.Run(ctx, req) }()
	require.Eventually(t, func() bool { running, _ := f.h.exec.Stats(); return running == 1 },
		60*time.Second, 5*time.Millisecond, "the command starts")

	require.NoError(t, f.h.Run(f.ctx, f.ask(bob, f.channel, "probe")))
	require.Contains(t, lastTold(f, bob), "already has 1 command(s) running")
	require.Nil(t, f.runs(), "a busy job refuses a second command")
	_, ok := phase(f.talkLog(), "not_started")
	require.True(t, ok)

	cancel()
	require.NoError(t, <-done)
	finished, ok := phase(f.talkLog(), "finished")
	require.True(t, ok, "a killed command is still recorded")
	require.Equal(t, "true", finished.Fields["canceled"])
	var reply string
	for _, m := range f.botMessages(f.channel) {
		if m.ThreadTS == req.TS {
			reply = m.Text
		}
	}
	require.Contains(t, reply, "killed: canceled")
}

// TestHandler_Run_SlackUserGroup lets guards see Slack user groups: greg is
// configured nowhere, but the Slack group "ops" makes him pass
// `"ops" in user.groups`, as it makes him an assignee of "ops" gates.
func TestHandler_Run_SlackUserGroup(t *testing.T) {
	f := newFixture(t, true)
	greg := f.emu.AddUser(slackemu.User{ID: "U0GREG", Email: "greg@example.com", Groups: []string{"ops"}})
	require.NoError(t, f.emu.Join(f.channel, greg.ID))
	require.NoError(t, f.h.Run(f.ctx, f.ask(greg.ID, f.channel, "restart service=api")))
	runs := f.runs()
	require.Len(t, runs, 1, "the guard allowed a member of the Slack group")
	require.Equal(t, []string{"restart", "api"}, runs[0])
	require.NoError(t, f.h.Run(f.ctx, f.ask(dave, f.channel, "restart service=api")))
	require.Len(t, f.runs(), 1, "a non-member is still refused")
}

// TestHandler_Run_RateLimited waits out Slack's 429 on the answers that
// do not go through the outbox, instead of dropping them.
func TestHandler_Run_RateLimited(t *testing.T) {
	f := newFixture(t, true)
	f.emu.InjectFault("chat.postEphemeral", slackemu.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	f.emu.InjectFault("chat.postMessage", slackemu.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	require.NoError(t, f.h.Run(f.ctx, f.ask(dave, f.channel, "restart service=api")))
	require.Len(t, f.ephemerals(dave), 1, "the refusal was delivered after the 429")
	require.Contains(t, f.ephemerals(dave)[0], "Nothing was run")
	require.NoError(t, f.h.Run(f.ctx, f.ask(alice, f.channel, "probe")))
	require.Len(t, f.runs(), 1)
	require.Len(t, f.botMessages(f.channel), 1, "the result was posted after the 429")
}

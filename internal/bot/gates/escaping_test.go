package gates_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/stretchr/testify/require"
)

// hostile is what the review sent through dispatch contexts, job and gate
// names, checklists, messages and evidence: broadcasts, a user-group and a
// user mention, a disguised link, and bare markup characters.
const hostile = `<!channel> <!here> <!everyone> <!subteam^S0OPS|@ops> <@U0ALICE> <https://evil.example|https://sso.corp> a & b <c>`

// slackToken is one control sequence in Slack text.
var slackToken = regexp.MustCompile(`<[^<>]*>`)

// mrkdwnTexts lists every text Slack parses for mentions and links in a
// recorded call: the message text, and every mrkdwn object in its blocks
// or view. plain_text objects (headers, buttons, titles, options) are shown
// literally by Slack and are not returned.
func mrkdwnTexts(t *testing.T, c slackemu.Call) []string {
	t.Helper()
	var out []string
	if s := c.Arg("text"); s != "" {
		out = append(out, s)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				s, _ := v["text"].(string)
				out = append(out, s)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, k := range []string{"blocks", "view", "attachments"} {
		if raw := c.Arg(k); raw != "" {
			var v any
			require.NoError(t, json.Unmarshal([]byte(raw), &v), "%s of %s", k, c.Method)
			walk(v)
		}
	}
	return out
}

// TestSlack_HostileValuesStayData feeds hostile values through every gate
// door (announcement, Block Kit refusal fallback, /manual-action list, show
// and refusals, App Home, the evidence modal, the resolution rewrite, a
// late attempt) and checks what the emulator received: the only Slack
// control sequences in parsed text are cla's own (the assignee mention,
// dates, links to the job page) and the description template's own
// link, whose target the value could not break out of.
func TestSlack_HostileValuesStayData(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	ctx := map[string]any{"resource": map[string]any{"name": hostile}, "environment": map[string]any{"name": hostile},
		"deployment": map[string]any{"name": hostile}, "release": map[string]any{"version": hostile},
		"runbook": "https://evil.example|https://sso.corp> <!channel", "owner": "<@U0ALICE>"}
	cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "Fix {[.resource.name]}",
		Description: "*Replace* the disk in {[.resource.name]}; runbook: <{[.runbook]}|runbook>; owner {[.owner]}; env {[.environment]}",
		Assignees:   []string{"bob"}, RequireEvidence: true, Checklist: []string{hostile}, AllowPartial: true,
		Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: e.channel}}}
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-66", Name: hostile, Context: ctx, Gate: &cfg})
	require.NoError(t, err)
	e.deliver()
	g := e.job("qa-66").OpenGate()
	require.Equal(t, "Fix "+hostile, g.Name, "the name is plain text, kept as given")
	require.Contains(t, g.Description, "<https://evil.example%7Chttps://sso.corp%3E%20%3C!channel|runbook>", "the value stays inside the template's link target")
	require.Contains(t, g.Description, "owner &lt;@U0ALICE&gt;")
	m, ok := e.emu.Message(g.Messages[0].Channel, g.Messages[0].TS)
	require.True(t, ok)

	// The same gate with Block Kit refused: the plain-text fallback.
	_, err = e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-67", Name: hostile, Context: ctx, Gate: &cfg})
	require.NoError(t, err)
	e.emu.InjectFault("chat.postMessage", slackemu.Fault{Error: "invalid_blocks", Times: 1})
	e.deliver()

	doors := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"slash list", func(t *testing.T) { e.slash(t, bob, "list") }},
		{"slash show", func(t *testing.T) { e.slash(t, bob, "show qa-66") }},
		{"slash refusal", func(t *testing.T) { e.slash(t, carol, "complete qa-66 "+hostile) }},
		{"slash unknown job", func(t *testing.T) { e.slash(t, bob, "show <!channel>") }},
		{"app home", func(t *testing.T) {
			_, err := e.emu.OpenAppHome(bob)
			require.NoError(t, err)
			e.waitHome(bob, "Fix")
		}},
		{"click refusal", func(t *testing.T) {
			_, err := e.emu.ClickButton(e.ctx, carol, m.Channel, m.TS, blocks.ActionComplete)
			require.NoError(t, err)
			e.waitEphemeral(carol, "not an assignee")
		}},
		{"evidence modal", func(t *testing.T) {
			since := time.Now()
			_, err := e.emu.ClickButton(e.ctx, bob, m.Channel, m.TS, blocks.ActionComplete)
			require.NoError(t, err)
			e.waitCall(t, "views.open", since)
		}},
		{"resolution rewrite", func(t *testing.T) {
			resp, err := e.handler.Submit(e.ctx, gates.Submission{UserID: bob, CallbackID: blocks.CallbackEvidence, PrivateMetadata: "qa-66/g1",
				Values: map[string]map[string]string{blocks.BlockEvidenceMessage: {"m": hostile},
					blocks.BlockEvidenceURL: {"u": "https://evil.example/?a=1&b=2"}}})
			require.NoError(t, err)
			require.Nil(t, resp)
			e.waitMessage(m, func(x slackemu.Message) bool { return !strings.Contains(string(x.Blocks), blocks.ActionComplete) })
		}},
		{"late attempt", func(t *testing.T) {
			_, err := e.emu.ClickButton(e.ctx, carol, m.Channel, m.TS, blocks.ActionView)
			require.NoError(t, err)
			e.slash(t, bob, "fail qa-66 "+hostile)
		}},
	}
	for _, d := range doors {
		t.Run(d.name, d.do)
	}

	// What Slack received, door by door.
	var seen int
	for _, c := range e.emu.Calls("") {
		switch c.Method {
		case "chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish", "views.update", "response_url":
		default:
			continue
		}
		for _, s := range mrkdwnTexts(t, c) {
			if strings.Contains(s, "&lt;!channel&gt;") {
				seen++
			}
			require.Empty(t, slacktext.Broadcasts(s), "%s sent a broadcast: %s", c.Method, s)
			for _, tok := range slackToken.FindAllString(s, -1) {
				require.True(t, ownToken(tok), "%s sent a control sequence that is not cla's: %s\nin: %s", c.Method, tok, s)
			}
		}
	}
	require.Positive(t, seen, "the hostile values did reach Slack, as text")
}

// ownToken accepts the control sequences cla writes itself.
func ownToken(tok string) bool {
	switch {
	case tok == "<@"+bob+">": // the assignee, looked up by email
	case strings.HasPrefix(tok, "<!date^"):
	case strings.HasPrefix(tok, "<https://cla.example/jobs/"):
	case strings.HasPrefix(tok, "<https://evil.example/?a=1&amp;b=2|"): // the evidence URL, as a link labelled by cla
	case tok == "<https://evil.example%7Chttps://sso.corp%3E%20%3C!channel|runbook>": // the template's own link
	default:
		return false
	}
	return true
}

// slash runs a /manual-action command through the emulator, so its answer
// goes to response_url as in Slack, and waits for that answer.
func (e *env) slash(t *testing.T, user, text string) {
	t.Helper()
	since := time.Now()
	_, err := e.emu.RunSlashCommand(e.ctx, slackemu.SlashCommand{User: user, Channel: e.channel, Command: "/manual-action", Text: text})
	require.NoError(t, err)
	e.waitCall(t, "response_url", since)
}

// waitCall waits for a call to method made at or after since.
func (e *env) waitCall(t *testing.T, method string, since time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	_, err := e.emu.WaitCall(ctx, method, func(c slackemu.Call) bool { return !c.At.Before(since) })
	require.NoError(t, err, "no %s call", method)
}

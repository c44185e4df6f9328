package slackemu

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"
)

// evidenceModal is the modal the bot opens for evidence.
func evidenceModal() slack.ModalViewRequest {
	url := slack.NewURLTextInputBlockElement(nil, "url")
	msg := slack.NewPlainTextInputBlockElement(nil, "message")
	urlBlock := slack.NewInputBlock("evidence_url", slack.NewTextBlockObject("plain_text", "URL", false, false), nil, url)
	urlBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "manual_action_evidence", PrivateMetadata: "qa-1",
		Title:  slack.NewTextBlockObject("plain_text", "Evidence", false, false),
		Submit: slack.NewTextBlockObject("plain_text", "Complete", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("evidence_message", slack.NewTextBlockObject("plain_text", "Message", false, false), nil, msg),
			urlBlock,
		}},
	}
}

// interactions collects interactive callbacks a testBot saw.
func interactions(t *testing.T, b *testBot) []slack.InteractionCallback {
	t.Helper()
	var out []slack.InteractionCallback
	for _, r := range b.requests() {
		if r.Type == "interactive" {
			var cb slack.InteractionCallback
			require.NoError(t, json.Unmarshal(r.Payload, &cb))
			out = append(out, cb)
		}
	}
	return out
}

func TestEmulator_Act(t *testing.T) {
	emu := NewTest(t, fastConfig())
	bot := newTestBot(t, emu, nil)
	alice, _, general := workspace(t, emu)
	_, ts, err := bot.api.PostMessage(general.ID, slack.MsgOptionText("gate", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("gate_g1", slack.NewButtonBlockElement("manual_action_complete", "qa-1",
			slack.NewTextBlockObject("plain_text", "Complete", false, false)).WithStyle(slack.StylePrimary))))
	require.NoError(t, err)

	ack, err := emu.ClickButton(ctxT(t), alice.ID, general.ID, ts, "manual_action_complete")
	require.NoError(t, err)
	require.NotEmpty(t, ack.EnvelopeID)
	cbs := interactions(t, bot)
	require.Len(t, cbs, 1)
	cb := cbs[0]
	require.Equal(t, slack.InteractionTypeBlockActions, cb.Type)
	require.Equal(t, alice.ID, cb.User.ID)
	require.Equal(t, general.ID, cb.Channel.ID)
	require.Equal(t, ts, cb.Container.MessageTs)
	require.Equal(t, ts, cb.Message.Timestamp)
	require.NotEmpty(t, cb.TriggerID)
	require.NotEmpty(t, cb.ResponseURL)
	act := cb.ActionCallback.BlockActions[0]
	require.Equal(t, "manual_action_complete", act.ActionID)
	require.Equal(t, "gate_g1", act.BlockID)
	require.Equal(t, "qa-1", act.Value)
	require.Equal(t, "button", string(act.Type))
	require.NotEmpty(t, act.ActionTs)

	t.Run("trigger opens a modal once", func(t *testing.T) {
		v, err := bot.api.OpenView(cb.TriggerID, evidenceModal())
		require.NoError(t, err)
		require.Equal(t, "manual_action_evidence", v.CallbackID)
		_, err = bot.api.OpenView(cb.TriggerID, evidenceModal())
		require.EqualError(t, err, "exchanged_trigger_id")
		_, err = bot.api.OpenView("1.2.3", evidenceModal())
		require.EqualError(t, err, "invalid_trigger_id")
	})
	t.Run("response_url replaces the original", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"replace_original": true, "text": "done"})
		resp, err := http.Post(cb.ResponseURL, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		m, _ := emu.Message(general.ID, ts)
		require.Equal(t, "done", m.Text)
		require.Len(t, emu.Calls("response_url"), 1)
	})
	t.Run("bad inputs", func(t *testing.T) {
		_, err := emu.ClickButton(ctxT(t), alice.ID, general.ID, ts, "nope")
		require.ErrorIs(t, err, ErrNoElement)
		_, err = emu.ClickButton(ctxT(t), alice.ID, general.ID, "1.000001", "manual_action_complete")
		require.Error(t, err)
		outsider := emu.AddUser(User{Name: "mallory"})
		_, err = emu.ClickButton(ctxT(t), outsider.ID, general.ID, ts, "manual_action_complete")
		require.ErrorIs(t, err, ErrNotMember)
	})
}

func TestEmulator_TriggerExpiry(t *testing.T) {
	cfg := fastConfig()
	cfg.TriggerTTL = time.Nanosecond
	emu := NewTest(t, cfg)
	var trigger string
	bot := newTestBot(t, emu, nil)
	alice, _, general := workspace(t, emu)
	_, err := emu.RunSlashCommand(ctxT(t), SlashCommand{User: alice.ID, Channel: general.ID, Command: "/manual-action", Text: "list"})
	require.NoError(t, err)
	var cmd slack.SlashCommand
	require.NoError(t, json.Unmarshal(bot.requests()[0].Payload, &cmd))
	trigger = cmd.TriggerID
	_, err = bot.api.OpenView(trigger, evidenceModal())
	require.EqualError(t, err, "expired_trigger_id")
}

func TestEmulator_SubmitView(t *testing.T) {
	emu := NewTest(t, fastConfig())
	bot := newTestBot(t, emu, func(req socketmode.Request) (any, bool) {
		var cb slack.InteractionCallback
		if json.Unmarshal(req.Payload, &cb) == nil && cb.Type == slack.InteractionTypeViewSubmission {
			if cb.View.State.Values["evidence_message"]["message"].Value == "bad" {
				return map[string]any{"response_action": "errors",
					"errors": map[string]string{"evidence_message": "say more"}}, false
			}
		}
		return nil, false
	})
	alice, _, general := workspace(t, emu)
	_, err := emu.RunSlashCommand(ctxT(t), SlashCommand{User: alice.ID, Channel: general.ID, Command: "/manual-action"})
	require.NoError(t, err)
	var cmd slack.SlashCommand
	require.NoError(t, json.Unmarshal(bot.requests()[0].Payload, &cmd))
	v, err := bot.api.OpenView(cmd.TriggerID, evidenceModal())
	require.NoError(t, err)

	cases := []struct {
		name    string
		values  map[string]map[string]string
		wantErr error
	}{
		{"required input empty", map[string]map[string]string{}, ErrInvalidInput},
		{"bad url", map[string]map[string]string{"evidence_message": {"message": "ok"}, "evidence_url": {"url": "nope"}}, ErrInvalidInput},
		{"unknown input", map[string]map[string]string{"evidence_message": {"message": "ok"}, "x": {"y": "z"}}, ErrNoElement},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emu.SubmitView(ctxT(t), Submission{ViewID: v.ID, Values: tc.values})
			require.ErrorIs(t, err, tc.wantErr)
		})
	}

	ack, err := emu.SubmitView(ctxT(t), Submission{ViewID: v.ID,
		Values: map[string]map[string]string{"evidence_message": {"message": "bad"}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"response_action":"errors","errors":{"evidence_message":"say more"}}`, string(ack.Payload))
	views := emu.Views()
	require.False(t, views[0].Closed)

	_, err = emu.SubmitView(ctxT(t), Submission{ViewID: v.ID, Values: map[string]map[string]string{
		"evidence_message": {"message": "swapped"}, "evidence_url": {"url": "https://example.com/x"}}})
	require.NoError(t, err)
	require.True(t, emu.Views()[0].Closed)
	cbs := interactions(t, bot)
	last := cbs[len(cbs)-1]
	require.Equal(t, "manual_action_evidence", last.View.CallbackID)
	require.Equal(t, "qa-1", last.View.PrivateMetadata)
	require.Equal(t, "https://example.com/x", last.View.State.Values["evidence_url"]["url"].Value)
}

func TestEmulator_RunSlashCommand(t *testing.T) {
	emu := NewTest(t, fastConfig())
	bot := newTestBot(t, emu, func(req socketmode.Request) (any, bool) {
		return map[string]any{"text": "your gates: none"}, false
	})
	alice, bob, general := workspace(t, emu)
	ack, err := emu.RunSlashCommand(ctxT(t), SlashCommand{User: alice.ID, Channel: "#general",
		Command: "/manual-action", Text: "reassign qa-1 @bob", Escape: true})
	require.NoError(t, err)
	require.JSONEq(t, `{"text":"your gates: none"}`, string(ack.Payload))
	req := bot.requests()[0]
	require.Equal(t, "slash_commands", req.Type)
	require.True(t, req.AcceptsResponsePayload)
	var cmd slack.SlashCommand
	require.NoError(t, json.Unmarshal(req.Payload, &cmd))
	require.Equal(t, "reassign qa-1 <@"+bob.ID+"|bob>", cmd.Text)
	require.Equal(t, general.ID, cmd.ChannelID)
	require.NotEmpty(t, cmd.ResponseURL)
	eph := emu.Ephemerals(alice.ID)
	require.Len(t, eph, 1)
	require.Equal(t, "your gates: none", eph[0].Text)

	_, err = emu.RunSlashCommand(ctxT(t), SlashCommand{User: alice.ID, Channel: general.ID, Command: "/manual-action", Text: "x @bob"})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(bot.requests()[1].Payload, &cmd))
	require.Equal(t, "x @bob", cmd.Text, "unescaped by default")
}

func TestEmulator_OpenAppHome(t *testing.T) {
	emu := NewTest(t, fastConfig())
	bot := newTestBot(t, emu, nil)
	alice, _, _ := workspace(t, emu)
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	_, err := bot.api.PublishView(alice.ID, home, "")
	require.NoError(t, err)
	id, err := emu.OpenAppHome(alice.ID)
	require.NoError(t, err)
	_, err = emu.WaitAck(ctxT(t), id)
	require.NoError(t, err)
	ev := eventsOf(t, emu)[0]
	require.Equal(t, "app_home_opened", ev["type"])
	require.Equal(t, "home", ev["tab"])
	require.Equal(t, emu.DMChannel(alice.ID), ev["channel"])
	v, ok := emu.HomeView(alice.ID)
	require.True(t, ok)
	require.Equal(t, "home", v.Type)
	_, err = bot.api.PublishView(alice.ID, slack.HomeTabViewRequest{Type: slack.VTModal}, "")
	require.EqualError(t, err, "invalid_arguments")
}

func TestEmulator_ActWithoutAck(t *testing.T) {
	emu := NewTest(t, fastConfig())
	newTestBot(t, emu, func(socketmode.Request) (any, bool) { return nil, true })
	alice, _, general := workspace(t, emu)
	_, ts, err := client(emu).PostMessage(general.ID, slack.MsgOptionBlocks(slack.NewActionBlock("b",
		slack.NewButtonBlockElement("go", "v", slack.NewTextBlockObject("plain_text", "Go", false, false)))))
	require.NoError(t, err)
	require.NoError(t, emu.WaitIdle(ctxT(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = emu.ClickButton(ctx, alice.ID, general.ID, ts, "go")
	require.ErrorIs(t, err, ErrNoAck)
	require.Empty(t, emu.Pending(), "an unacked interaction is not retried")
}

package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// SlashCommand is a human running a slash command in a channel.
type SlashCommand struct {
	User    string // who runs it
	Channel string // channel id or "#name" where it is typed
	Command string // "/manual-action"
	Text    string // everything after the command
	// Escape encodes @user and #channel in Text as <@U…|name> and
	// <#C…|name>, as when the command's "escape channels, users, and links"
	// setting is on. Off (Slack's default), they arrive as typed.
	Escape bool
}

// RunSlashCommand has a human run a slash command and waits for the ack.
// An ack carrying text or blocks is shown the way Slack shows it: posted to
// the channel by the bot with response_type "in_channel", otherwise as an
// ephemeral message to the user (see Ephemerals).
func (e *Emulator) RunSlashCommand(ctx context.Context, c SlashCommand) (Ack, error) {
	e.mu.Lock()
	ch, err := e.humanChannelLocked(c.User, c.Channel)
	if err != nil {
		e.mu.Unlock()
		return Ack{}, fmt.Errorf("slash command: %w", err)
	}
	text := escapeText(c.Text)
	if c.Escape {
		text = e.escapeCommandLocked(c.Text)
	}
	u := e.users[c.User]
	payload := obj{"token": e.verification(), "team_id": e.cfg.TeamID, "team_domain": e.cfg.TeamDomain,
		"channel_id": ch.ID, "channel_name": ch.Name, "user_id": u.ID, "user_name": u.Name,
		"command": c.Command, "text": text, "api_app_id": e.cfg.AppID, "is_enterprise_install": "false",
		"response_url": e.newHookLocked("commands", ch.ID, u.ID, ""),
		"trigger_id":   e.newTriggerLocked(u.ID)}
	d := e.enqueueLocked("slash_commands", "", c.Command, payload, true)
	e.mu.Unlock()
	ctx, cancel := e.ackContext(ctx)
	defer cancel()
	ack, err := e.awaitAck(ctx, d)
	if err != nil {
		return ack, err
	}
	e.showReply(ch.ID, u.ID, "", ack.Payload, "ack")
	return ack, nil
}

// escapeText applies Slack's &, <, > escaping.
// escapeText escapes text as Slack does before delivering it: &, < and >
// (the emulator plays Slack, so it keeps its own copy of Slack's rule).
func escapeText(s string) string { return slackEscaper.Replace(s) }

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeCommandLocked encodes mentions the way escaped commands carry them.
func (e *Emulator) escapeCommandLocked(s string) string {
	out := e.encodeLocked(s)
	for _, id := range e.userOrder {
		u := e.users[id]
		out = strings.ReplaceAll(out, "<@"+u.ID+">", "<@"+u.ID+"|"+u.Name+">")
	}
	return out
}

// reply is a message payload from an ack or a response_url.
type reply struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// showReply displays an ack's or response_url's message to the user.
func (e *Emulator) showReply(channelID, user, thread string, raw json.RawMessage, via string) {
	var r reply
	if json.Unmarshal(raw, &r) != nil || (r.Text == "" && len(r.Blocks) == 0) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := e.channels[channelID]
	if ch == nil {
		return
	}
	if r.ResponseType == "in_channel" {
		e.postBotLocked(ch, r.Text, r.Blocks, thread)
		return
	}
	e.ephemerals = append(e.ephemerals, Ephemeral{Channel: channelID, User: user,
		TS: e.clock.next(), Text: r.Text, Blocks: r.Blocks, Via: via})
	e.notifyLocked()
}

// OpenAppHome has a human open the app's Home tab: an app_home_opened
// event (carrying the published view, if any) is delivered. It returns the
// event id, for WaitAck.
func (e *Emulator) OpenAppHome(userID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[userID]
	if !ok || u.IsBot {
		return "", fmt.Errorf("open app home: no human user %q", userID)
	}
	ev := obj{"type": "app_home_opened", "user": userID, "channel": e.dmLocked(userID).ID,
		"tab": "home", "event_ts": e.clock.next()}
	if v, ok := e.views[e.homes[userID]]; ok {
		ev["view"] = e.viewJSON(v, nil)
	}
	return e.sendEventLocked(ev), nil
}

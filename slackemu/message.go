package slackemu

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
)

// Message is a message as it currently stands in a channel (after updates).
type Message struct {
	Channel  string          // channel id
	TS       string          // the message's ts, its id within the channel
	ThreadTS string          // the parent's ts for thread replies (and parents with replies)
	User     string          // author; the bot's user id for the bot's messages
	BotID    string          // set on the bot's messages
	Subtype  string          // "", "file_share", "channel_join", …
	Text     string          // current text
	Blocks   json.RawMessage // current blocks, nil when none
	Metadata json.RawMessage // message metadata, if the bot set any
	Files    []File          // shared files
	EditedTS string          // ts of the last edit, "" if never edited
	Deleted  bool            // deleted messages only show up in Message(…)
}

// IsBot reports whether the bot wrote the message.
func (m Message) IsBot() bool { return m.BotID != "" }

// message is the stored form; guarded by e.mu.
type message struct {
	Message
	clientMsgID string
	editedBy    string
	inviter     string
	noBlocks    bool
}

// storeLocked assigns a ts and appends the message to the channel.
func (e *Emulator) storeLocked(ch *channel, m *message) {
	m.Channel = ch.ID
	m.TS = e.clock.next()
	ch.msgs = append(ch.msgs, m)
	if m.ThreadTS != "" {
		if p := ch.find(m.ThreadTS); p != nil && p.ThreadTS == "" {
			p.ThreadTS = p.TS
		}
	}
	e.notifyLocked()
}

// find returns the message with ts (deleted or not).
func (ch *channel) find(ts string) *message {
	for _, m := range ch.msgs {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// replies returns the live replies to parent ts, oldest first.
func (ch *channel) replies(ts string) []*message {
	var out []*message
	for _, m := range ch.msgs {
		if m.ThreadTS == ts && m.TS != ts && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// messageJSON renders a message as history, replies and events show it.
func (e *Emulator) messageJSON(ch *channel, m *message) obj {
	o := obj{"type": "message", "text": m.Text, "ts": m.TS}
	if m.User != "" {
		o["user"] = m.User
	}
	if m.Subtype != "" {
		o["subtype"] = m.Subtype
	}
	if m.BotID == e.cfg.BotID && m.BotID != "" {
		o["bot_id"], o["app_id"] = m.BotID, e.cfg.AppID
		o["bot_profile"] = e.botProfile()
	} else if m.BotID != "" { // another app's bot (PostAsOtherApp)
		o["bot_id"], o["app_id"] = m.BotID, "A"+m.BotID
	} else if m.clientMsgID != "" {
		o["client_msg_id"] = m.clientMsgID
	}
	if m.Subtype == "" || m.Subtype == "file_share" {
		o["team"] = e.cfg.TeamID
	}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	if len(m.Metadata) > 0 {
		o["metadata"] = m.Metadata
	}
	if len(m.Files) > 0 {
		o["files"] = e.filesJSON(m.Files)
		o["upload"], o["display_as_bot"] = false, false
	}
	if m.inviter != "" {
		o["inviter"] = m.inviter
	}
	if m.EditedTS != "" {
		o["edited"] = obj{"user": m.editedBy, "ts": m.EditedTS}
	}
	e.threadJSON(ch, m, o)
	return o
}

// threadJSON adds Slack's thread fields to a parent or a reply.
func (e *Emulator) threadJSON(ch *channel, m *message, o obj) {
	if m.ThreadTS == "" {
		return
	}
	o["thread_ts"] = m.ThreadTS
	if m.ThreadTS != m.TS {
		if p := ch.find(m.ThreadTS); p != nil {
			o["parent_user_id"] = p.User
		}
		return
	}
	reps := ch.replies(m.TS)
	users := []string{}
	latest := m.TS
	for _, r := range reps {
		if !slices.Contains(users, r.User) {
			users = append(users, r.User)
		}
		latest = r.TS
	}
	o["reply_count"], o["reply_users_count"] = len(reps), len(users)
	o["reply_users"], o["latest_reply"] = users, latest
	o["is_locked"], o["subscribed"] = false, false
}

// botProfile is the bot_profile object on the bot's messages.
func (e *Emulator) botProfile() obj {
	return obj{"id": e.cfg.BotID, "deleted": false, "name": e.cfg.BotName,
		"updated": 1742000000, "app_id": e.cfg.AppID, "team_id": e.cfg.TeamID,
		"icons": obj{"image_36": e.base + "/img/bot_36.png", "image_48": e.base + "/img/bot_48.png",
			"image_72": e.base + "/img/bot_72.png"}}
}

// emitMessageLocked delivers the message event for a new message, plus an
// app_mention when a human mentions the bot, to an app in the channel.
func (e *Emulator) emitMessageLocked(ch *channel, m *message) {
	if !ch.members[e.cfg.BotUserID] || ch.imUser != "" {
		return
	}
	ev := e.messageJSON(ch, m)
	ev["channel"], ev["event_ts"], ev["channel_type"] = ch.ID, m.TS, ch.channelType()
	e.sendEventLocked(ev)
	if m.BotID == "" && m.Subtype == "" && strings.Contains(m.Text, "<@"+e.cfg.BotUserID+">") {
		mention := e.messageJSON(ch, m)
		mention["type"], mention["channel"], mention["event_ts"] = "app_mention", ch.ID, m.TS
		for _, k := range []string{"reply_count", "reply_users_count", "reply_users", "latest_reply", "is_locked", "subscribed"} {
			delete(mention, k)
		}
		e.sendEventLocked(mention)
	}
}

// emitChangeLocked delivers message_changed (prev is the message before).
func (e *Emulator) emitChangeLocked(ch *channel, prev, cur *message) {
	if !ch.members[e.cfg.BotUserID] || ch.imUser != "" {
		return
	}
	ts := e.clock.next()
	e.sendEventLocked(obj{"type": "message", "subtype": "message_changed", "hidden": true,
		"message": e.messageJSON(ch, cur), "previous_message": e.messageJSON(ch, prev),
		"channel": ch.ID, "ts": ts, "event_ts": ts, "channel_type": ch.channelType()})
}

// emitDeleteLocked delivers message_deleted for m.
func (e *Emulator) emitDeleteLocked(ch *channel, m *message) {
	if !ch.members[e.cfg.BotUserID] || ch.imUser != "" {
		return
	}
	prev := *m
	prev.Deleted = false
	ts := e.clock.next()
	ev := obj{"type": "message", "subtype": "message_deleted", "hidden": true,
		"deleted_ts": m.TS, "previous_message": e.messageJSON(ch, &prev),
		"channel": ch.ID, "ts": ts, "event_ts": ts, "channel_type": ch.channelType()}
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		ev["thread_ts"] = m.ThreadTS
	}
	e.sendEventLocked(ev)
}

// Messages returns the live messages of a channel, thread replies included,
// in ts order, as they currently stand.
func (e *Emulator) Messages(channelID string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.channels[channelID]
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range ch.msgs {
		if !m.Deleted {
			out = append(out, m.copy())
		}
	}
	return out
}

// Message returns one message by ts, deleted ones included.
func (e *Emulator) Message(channelID, ts string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ch, ok := e.channels[channelID]; ok {
		if m := ch.find(ts); m != nil {
			return m.copy(), true
		}
	}
	return Message{}, false
}

// WaitMessage blocks until a live message in the channel satisfies match
// (nil matches any) and returns the first such message.
func (e *Emulator) WaitMessage(ctx context.Context, channelID string, match func(Message) bool) (Message, error) {
	var found Message
	err := e.waitFor(ctx, func() bool {
		ch, ok := e.channels[channelID]
		if !ok {
			return false
		}
		for _, m := range ch.msgs {
			if c := m.copy(); !m.Deleted && (match == nil || match(c)) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}

func (m *message) copy() Message {
	c := m.Message
	c.Blocks = slices.Clone(m.Blocks)
	c.Files = slices.Clone(m.Files)
	return c
}

// Ephemeral is a message only one user saw (chat.postEphemeral, a
// response_url or slash-command answer with response_type ephemeral).
type Ephemeral struct {
	Channel string
	User    string // who saw it
	TS      string
	Text    string
	Blocks  json.RawMessage
	Via     string // "chat.postEphemeral", "response_url", "ack"; "response_url" once replaced through one
}

// ephemeralLocked finds the ephemeral message ts shown to user in a channel:
// an ephemeral belongs to one (channel, user), and nobody else can act on it.
func (e *Emulator) ephemeralLocked(channelID, user, ts string) *Ephemeral {
	if ts == "" {
		return nil
	}
	for i := len(e.ephemerals) - 1; i >= 0; i-- {
		if x := &e.ephemerals[i]; x.TS == ts && x.Channel == channelID && x.User == user {
			return x
		}
	}
	return nil
}

// EphemeralByTS returns one ephemeral message a user still sees in a
// channel (one deleted through its response_url is gone).
func (e *Emulator) EphemeralByTS(channelID, userID, ts string) (Ephemeral, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.ephemeralLocked(channelID, userID, ts); x != nil {
		c := *x
		c.Blocks = slices.Clone(x.Blocks)
		return c, true
	}
	return Ephemeral{}, false
}

// Ephemerals returns the ephemeral messages shown to a user ("" for all).
func (e *Emulator) Ephemerals(userID string) []Ephemeral {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Ephemeral
	for _, x := range e.ephemerals {
		if userID == "" || x.User == userID {
			out = append(out, x)
		}
	}
	return out
}

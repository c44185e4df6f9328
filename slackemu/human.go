package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
)

// HumanMessage is a message typed by a simulated human.
type HumanMessage struct {
	User     string // author user id
	Channel  string // channel id or "#name"
	Text     string // as typed; see Post for how mentions are encoded
	ThreadTS string // reply in this thread ("" for top level)
	Files    []File // files shared with the message (subtype file_share)
	NoBlocks bool   // leave out the rich_text blocks Slack clients add
	Verbatim bool   // send Text as-is: no @name/#name encoding, no escaping
}

// ErrNotMember is returned when a simulated human acts in a channel they
// are not in (Slack's client would not let them).
var ErrNotMember = errors.New("slackemu: user is not in the channel")

// Post has a human post a message, and returns its ts. Like Slack's
// client, it escapes &, < and > and encodes "@name" (a user or the bot),
// "@handle" (a user group), "@here"/"@channel" and "#name" (an existing
// channel) as <@U…>, <!subteam^S…>, <!here> and <#C…|name>; already encoded
// mentions are kept. The app in the channel gets the message event, and an
// app_mention event too when the bot is mentioned.
func (e *Emulator) Post(m HumanMessage) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, err := e.humanChannelLocked(m.User, m.Channel)
	if err != nil {
		return "", err
	}
	thread := ""
	if m.ThreadTS != "" {
		p := ch.find(m.ThreadTS)
		if p == nil || p.Deleted {
			return "", fmt.Errorf("post in %s: no message %s to reply to", m.Channel, m.ThreadTS)
		}
		thread = p.TS
		if p.ThreadTS != "" {
			thread = p.ThreadTS
		}
	}
	msg := &message{Message: Message{User: m.User, ThreadTS: thread}, clientMsgID: uuid(), noBlocks: m.NoBlocks}
	e.setHumanTextLocked(msg, m.Text, m.Verbatim)
	for _, f := range m.Files {
		msg.Files = append(msg.Files, e.addFileLocked(f, m.User))
	}
	if len(msg.Files) > 0 {
		msg.Subtype, msg.clientMsgID = "file_share", ""
	}
	e.storeLocked(ch, msg)
	e.emitMessageLocked(ch, msg)
	return msg.TS, nil
}

// PostMessage has a human post text at the top level of a channel.
func (e *Emulator) PostMessage(userID, channel, text string) (string, error) {
	return e.Post(HumanMessage{User: userID, Channel: channel, Text: text})
}

// PostReply has a human reply in a thread.
func (e *Emulator) PostReply(userID, channel, threadTS, text string) (string, error) {
	return e.Post(HumanMessage{User: userID, Channel: channel, Text: text, ThreadTS: threadTS})
}

// ShareFile has a human share a file with an optional comment; it returns
// the file as stored (with its id) and the message ts.
func (e *Emulator) ShareFile(userID, channel string, f File, comment string) (File, string, error) {
	ts, err := e.Post(HumanMessage{User: userID, Channel: channel, Text: comment, Files: []File{f}})
	if err != nil {
		return File{}, "", err
	}
	m, _ := e.Message(e.channelID(channel), ts)
	return m.Files[0], ts, nil
}

// EditMessage has the author of a human message change its text; the app
// gets a message_changed event with message and previous_message.
func (e *Emulator) EditMessage(channel, ts, text string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, m, err := e.humanMessageLocked(channel, ts)
	if err != nil {
		return err
	}
	prev := *m
	e.setHumanTextLocked(m, text, false)
	m.EditedTS, m.editedBy = e.clock.next(), m.User
	e.notifyLocked()
	e.emitChangeLocked(ch, &prev, m)
	return nil
}

// DeleteMessage has the author delete a human message; the app gets a
// message_deleted event with deleted_ts.
func (e *Emulator) DeleteMessage(channel, ts string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, m, err := e.humanMessageLocked(channel, ts)
	if err != nil {
		return err
	}
	m.Deleted = true
	e.notifyLocked()
	e.emitDeleteLocked(ch, m)
	return nil
}

// humanChannelLocked finds the channel a human acts in and checks they may.
func (e *Emulator) humanChannelLocked(user, ref string) (*channel, error) {
	if u, ok := e.users[user]; !ok || u.IsBot {
		return nil, fmt.Errorf("no human user %q", user)
	}
	ch, err := e.resolveChannelLocked(ref)
	if err != nil || ch.imUser != "" {
		return nil, fmt.Errorf("no channel %q", ref)
	}
	if ch.Archived {
		return nil, fmt.Errorf("channel %q is archived", ref)
	}
	if !ch.members[user] {
		return nil, fmt.Errorf("%s in %s: %w", user, ref, ErrNotMember)
	}
	return ch, nil
}

// humanMessageLocked finds a live human message.
func (e *Emulator) humanMessageLocked(ref, ts string) (*channel, *message, error) {
	ch, err := e.resolveChannelLocked(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("no channel %q", ref)
	}
	m := ch.find(ts)
	if m == nil || m.Deleted {
		return nil, nil, fmt.Errorf("no message %s in %s", ts, ref)
	}
	if m.BotID != "" {
		return nil, nil, fmt.Errorf("message %s in %s is the bot's", ts, ref)
	}
	return ch, m, nil
}

// channelID resolves a channel reference for helpers (id or "#name").
func (e *Emulator) channelID(ref string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ch, err := e.resolveChannelLocked(ref); err == nil {
		return ch.ID
	}
	return ref
}

// setHumanTextLocked encodes typed text and rebuilds the rich_text block.
func (e *Emulator) setHumanTextLocked(m *message, text string, verbatim bool) {
	if !verbatim {
		text = e.encodeLocked(text)
	}
	m.Text = text
	m.Blocks = nil
	if !m.noBlocks && text != "" {
		m.Blocks = richTextBlocks(text)
	}
}

// addFileLocked stores a shared file.
func (e *Emulator) addFileLocked(f File, user string) File {
	f = fileDefaults(f)
	if f.ID == "" {
		f.ID = e.nextID("F")
	}
	f.User = user
	cp := f
	e.files[f.ID] = &cp
	e.capFileBytesLocked()
	f.Content = nil // messages carry the file's metadata; its bytes are served from e.files
	return f
}

// PostAsOtherApp has the bot of another app installed in the workspace
// (botID, not the app under test) post text with message metadata (a JSON
// object, or nil) at the top level of a channel, as that app would through
// chat.postMessage. The app under test gets the message event if it is in
// the channel. It returns the message's ts.
func (e *Emulator) PostAsOtherApp(botID, channel, text string, metadata json.RawMessage) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if botID == "" || botID == e.cfg.BotID {
		return "", fmt.Errorf("post as another app: %q is not another app's bot id", botID)
	}
	ch, err := e.resolveChannelLocked(channel)
	if err != nil {
		return "", fmt.Errorf("post as another app: %w", err)
	}
	m := &message{Message: Message{User: "U" + botID, BotID: botID, Text: text, Metadata: metadata}}
	e.storeLocked(ch, m)
	e.emitMessageLocked(ch, m)
	return m.TS, nil
}

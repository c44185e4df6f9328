package slackemu

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// maxTextLen is Slack's limit on a message's text.
const maxTextLen = 40000

// resolveChannelLocked finds the conversation a chat.* call names: an id, a
// "#name", or a user id (the bot's DM with that user).
func (e *Emulator) resolveChannelLocked(ref string) (*channel, error) {
	if ref == "" {
		return nil, slackErr("channel_not_found")
	}
	if ch, ok := e.channels[ref]; ok {
		return ch, nil
	}
	if strings.HasPrefix(ref, "U") || strings.HasPrefix(ref, "W") {
		if u, ok := e.users[ref]; ok && !u.IsBot {
			return e.dmLocked(ref), nil
		}
		return nil, slackErr("channel_not_found")
	}
	if ch := e.channelByNameLocked(strings.TrimPrefix(ref, "#")); ch != nil {
		return ch, nil
	}
	return nil, slackErr("channel_not_found")
}

// canPostLocked applies membership rules for the bot posting into ch.
func (e *Emulator) canPostLocked(ch *channel) error {
	if ch.Archived {
		return slackErr("is_archived")
	}
	if ch.members[e.cfg.BotUserID] {
		return nil
	}
	if ch.Private {
		return slackErr("channel_not_found")
	}
	if e.scopes["chat:write.public"] {
		return nil
	}
	return slackErr("not_in_channel")
}

// content is the text and blocks of a chat call, validated.
type content struct {
	text      string
	hasText   bool
	blocks    json.RawMessage
	hasBlocks bool
}

// readContent validates text, blocks and attachments the way Slack does.
func readContent(a *args, need bool) (content, error) {
	c := content{text: a.str("text"), hasText: a.has("text")}
	if utf8.RuneCountInString(c.text) > maxTextLen {
		return c, slackErr("msg_too_long")
	}
	raw, ok, err := a.raw("blocks")
	if err != nil {
		return c, slackErr("invalid_blocks_format")
	}
	if ok {
		if errs, ferr := ValidateBlocks(raw, SurfaceMessage); ferr != nil {
			return c, slackErr("invalid_blocks_format")
		} else if len(errs) > 0 {
			return c, blocksError("invalid_blocks", errs)
		}
		c.blocks, c.hasBlocks = raw, true
		if string(raw) == "[]" {
			c.blocks = nil
		}
	}
	_, hasAtt, _ := a.raw("attachments")
	if need && strings.TrimSpace(c.text) == "" && len(c.blocks) == 0 && !hasAtt {
		return c, slackErr("no_text")
	}
	return c, nil
}

// chatPostMessage posts as the bot and emits the message event.
func (e *Emulator) chatPostMessage(a *args) (obj, error) {
	ch, err := e.resolveChannelLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	if err := e.canPostLocked(ch); err != nil {
		return nil, err
	}
	c, err := readContent(a, true)
	if err != nil {
		return nil, err
	}
	thread := a.str("thread_ts")
	if thread != "" {
		p := ch.find(thread)
		if p == nil || p.Deleted {
			return nil, slackErr("thread_not_found")
		}
		if p.ThreadTS != "" {
			thread = p.ThreadTS
		}
	}
	meta, err := readMetadata(a)
	if err != nil {
		return nil, err
	}
	m := e.postBotLocked(ch, c.text, c.blocks, thread)
	m.Metadata = meta
	return obj{"channel": ch.ID, "ts": m.TS, "message": e.messageJSON(ch, m)}, nil
}

// postBotLocked stores a message by the bot and emits its event.
func (e *Emulator) postBotLocked(ch *channel, text string, blocks json.RawMessage, thread string) *message {
	m := &message{Message: Message{User: e.cfg.BotUserID, BotID: e.cfg.BotID,
		Text: text, Blocks: blocks, ThreadTS: thread}}
	e.storeLocked(ch, m)
	e.emitMessageLocked(ch, m)
	return m
}

// chatUpdate edits one of the bot's messages and emits message_changed.
func (e *Emulator) chatUpdate(a *args) (obj, error) {
	ch, m, err := e.botMessageLocked(a, "ts", "cant_update_message")
	if err != nil {
		return nil, err
	}
	c, err := readContent(a, false)
	if err != nil {
		return nil, err
	}
	prev := *m
	if c.hasText {
		m.Text = c.text
	}
	if c.hasBlocks {
		m.Blocks = c.blocks
	}
	m.EditedTS, m.editedBy = e.clock.next(), e.cfg.BotUserID
	e.notifyLocked()
	e.emitChangeLocked(ch, &prev, m)
	return obj{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": e.messageJSON(ch, m)}, nil
}

// botMessageLocked finds the bot's own message named by channel and tsArg.
func (e *Emulator) botMessageLocked(a *args, tsArg, notOwn string) (*channel, *message, error) {
	ch, ok := e.channels[a.str("channel")]
	if !ok {
		return nil, nil, slackErr("channel_not_found")
	}
	m := ch.find(a.str(tsArg))
	if m == nil || m.Deleted {
		return nil, nil, slackErr("message_not_found")
	}
	if m.BotID != e.cfg.BotID {
		return nil, nil, slackErr(notOwn)
	}
	return ch, m, nil
}

// chatDelete deletes one of the bot's messages and emits message_deleted.
func (e *Emulator) chatDelete(a *args) (obj, error) {
	ch, m, err := e.botMessageLocked(a, "ts", "cant_delete_message")
	if err != nil {
		return nil, err
	}
	m.Deleted = true
	e.notifyLocked()
	e.emitDeleteLocked(ch, m)
	return obj{"channel": ch.ID, "ts": m.TS}, nil
}

// chatPostEphemeral shows a message to one member of a channel.
func (e *Emulator) chatPostEphemeral(a *args) (obj, error) {
	ch, err := e.resolveChannelLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	user := a.str("user")
	if _, ok := e.users[user]; !ok {
		return nil, slackErr("user_not_found")
	}
	if err := e.canPostLocked(ch); err != nil {
		return nil, err
	}
	if !ch.members[user] {
		return nil, slackErr("user_not_in_channel")
	}
	c, err := readContent(a, true)
	if err != nil {
		return nil, err
	}
	ts := e.clock.next()
	e.ephemerals = append(e.ephemerals, Ephemeral{Channel: ch.ID, User: user, TS: ts,
		Text: c.text, Blocks: c.blocks, Via: "chat.postEphemeral"})
	e.notifyLocked()
	return obj{"message_ts": ts}, nil
}

// chatGetPermalink answers a link to a message on the emulator itself.
func (e *Emulator) chatGetPermalink(a *args) (obj, error) {
	ch, ok := e.channels[a.str("channel")]
	if !ok {
		return nil, slackErr("channel_not_found")
	}
	m := ch.find(a.str("message_ts"))
	if m == nil || m.Deleted {
		return nil, slackErr("message_not_found")
	}
	link := e.base + "/archives/" + ch.ID + "/p" + strings.ReplaceAll(m.TS, ".", "")
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.ID
	}
	return obj{"channel": ch.ID, "permalink": link}, nil
}

// maxMetadata bounds a message's metadata (Slack documents no exact
// figure; larger payloads are refused with metadata_too_large).
const maxMetadata = 8 << 10

// readMetadata checks a message's metadata as Slack does: a JSON object
// with a non-empty string event_type and an object event_payload.
func readMetadata(a *args) (json.RawMessage, error) {
	raw, ok, err := a.raw("metadata")
	if err != nil {
		return nil, slackErr("invalid_metadata_format")
	}
	if !ok || len(raw) == 0 {
		return nil, nil
	}
	if len(raw) > maxMetadata {
		return nil, slackErr("metadata_too_large")
	}
	var m struct {
		EventType    *string         `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if json.Unmarshal(raw, &m) != nil || m.EventType == nil {
		return nil, slackErr("invalid_metadata_format")
	}
	var payload map[string]any
	if *m.EventType == "" || json.Unmarshal(m.EventPayload, &payload) != nil || payload == nil {
		return nil, slackErr("invalid_metadata_schema")
	}
	return raw, nil
}

package slackemu

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Channel describes a conversation for setup and queries.
type Channel struct {
	ID       string   // "C…"; generated when empty
	Name     string   // lower-case, no spaces: "job-qa-1234"
	Private  bool     // a private channel: message.groups, channel_type "group"
	Archived bool     // archived channels refuse posts and joins
	Topic    string   // shown in conversations.info
	Purpose  string   // shown in conversations.info
	Creator  string   // user id; defaults to the first member or the bot
	Members  []string // user ids; include BotUserID() to put the bot in it
}

// channel is a conversation with its history; guarded by e.mu.
type channel struct {
	Channel
	created int64
	members map[string]bool
	msgs    []*message // in ts order, replies included
	imUser  string     // for D… direct-message channels: the human
}

// AddChannel creates a channel (or, if the name exists, adds the given
// members to it) and returns it. Adding a member here emits no events:
// it is setup, not something that happens during the test.
func (e *Emulator) AddChannel(c Channel) Channel {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.channelByNameLocked(c.Name); old != nil {
		for _, m := range c.Members {
			e.addMemberLocked(old, m)
		}
		return old.snapshot()
	}
	ch := e.newChannelLocked(c)
	return ch.snapshot()
}

// newChannelLocked stores a new channel.
func (e *Emulator) newChannelLocked(c Channel) *channel {
	if c.ID == "" {
		c.ID = e.nextID("C")
	}
	if c.Creator == "" {
		c.Creator = e.cfg.BotUserID
		if len(c.Members) > 0 {
			c.Creator = c.Members[0]
		}
	}
	ch := &channel{Channel: c, created: time.Now().Unix(), members: map[string]bool{}}
	ch.Members = nil
	for _, m := range c.Members {
		e.addMemberLocked(ch, m)
	}
	e.channels[c.ID] = ch
	e.chanOrder = append(e.chanOrder, c.ID)
	e.notifyLocked()
	return ch
}

// Join adds users to a channel as if each had joined it: a channel_join
// message is posted and, if the bot is in the channel, delivered as an event.
func (e *Emulator) Join(channelID string, userIDs ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.channels[channelID]
	if !ok {
		return fmt.Errorf("join %s: no such channel", channelID)
	}
	for _, u := range userIDs {
		if _, ok := e.users[u]; !ok {
			return fmt.Errorf("join %s: no such user %s", channelID, u)
		}
		if !ch.members[u] {
			e.joinLocked(ch, u, "")
		}
	}
	return nil
}

// joinLocked makes u a member and posts Slack's channel_join message.
func (e *Emulator) joinLocked(ch *channel, u, inviter string) {
	e.addMemberLocked(ch, u)
	m := &message{Message: Message{Channel: ch.ID, User: u, Subtype: "channel_join",
		Text: fmt.Sprintf("<@%s> has joined the channel", u)}}
	m.inviter = inviter
	e.storeLocked(ch, m)
	e.emitMessageLocked(ch, m)
}

// addMemberLocked adds one member without side effects.
func (e *Emulator) addMemberLocked(ch *channel, u string) {
	if !ch.members[u] {
		ch.members[u] = true
		ch.Members = append(ch.Members, u)
		e.notifyLocked()
	}
}

// Channel returns one channel by id.
func (e *Emulator) Channel(id string) (Channel, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.channels[id]
	if !ok {
		return Channel{}, false
	}
	return ch.snapshot(), true
}

// ChannelByName returns one channel by name ("job-qa-1", no "#").
func (e *Emulator) ChannelByName(name string) (Channel, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := e.channelByNameLocked(strings.TrimPrefix(name, "#"))
	if ch == nil {
		return Channel{}, false
	}
	return ch.snapshot(), true
}

// Channels returns every channel (not DMs) in creation order.
func (e *Emulator) Channels() []Channel {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Channel
	for _, id := range e.chanOrder {
		if ch := e.channels[id]; ch.imUser == "" {
			out = append(out, ch.snapshot())
		}
	}
	return out
}

func (e *Emulator) channelByNameLocked(name string) *channel {
	for _, id := range e.chanOrder {
		if ch := e.channels[id]; ch.imUser == "" && ch.Name == name {
			return ch
		}
	}
	return nil
}

// dmLocked returns (creating once) the bot's direct-message channel with u.
func (e *Emulator) dmLocked(u string) *channel {
	if id, ok := e.dms[u]; ok {
		return e.channels[id]
	}
	ch := e.newChannelLocked(Channel{ID: e.nextID("D"), Private: true,
		Members: []string{u, e.cfg.BotUserID}})
	ch.imUser = u
	e.dms[u] = ch.ID
	return ch
}

// DMChannel returns the id of the bot's direct-message channel with a user,
// where chat.postMessage to a user id lands.
func (e *Emulator) DMChannel(userID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dmLocked(userID).ID
}

func (ch *channel) snapshot() Channel {
	c := ch.Channel
	c.Members = slices.Clone(ch.Members)
	return c
}

// channelType is the channel_type Slack puts in message events.
func (ch *channel) channelType() string {
	switch {
	case ch.imUser != "":
		return "im"
	case ch.Private:
		return "group"
	}
	return "channel"
}

// json renders the conversation object as the conversations.* methods do.
func (e *Emulator) channelJSON(ch *channel) obj {
	if ch.imUser != "" {
		return obj{"id": ch.ID, "created": ch.created, "is_archived": false, "is_im": true,
			"is_org_shared": false, "context_team_id": e.cfg.TeamID, "updated": ch.created * 1000,
			"user": ch.imUser, "is_user_deleted": false, "priority": 0}
	}
	topic := obj{"value": ch.Topic, "creator": "", "last_set": 0}
	purpose := obj{"value": ch.Purpose, "creator": "", "last_set": 0}
	return obj{
		"id": ch.ID, "name": ch.Name, "name_normalized": ch.Name,
		"is_channel": true, "is_group": false, "is_im": false, "is_mpim": false,
		"is_private": ch.Private, "created": ch.created, "is_archived": ch.Archived,
		"is_general": false, "unlinked": 0, "is_shared": false, "is_org_shared": false,
		"is_ext_shared": false, "is_pending_ext_shared": false, "pending_shared": []string{},
		"context_team_id": e.cfg.TeamID, "updated": ch.created * 1000,
		"parent_conversation": nil, "creator": ch.Creator,
		"shared_team_ids": []string{e.cfg.TeamID}, "is_member": ch.members[e.cfg.BotUserID],
		"topic": topic, "purpose": purpose, "previous_names": []string{},
	}
}

// validChannelName applies Slack's naming rules, returning the error code.
func validChannelName(name string) string {
	switch {
	case name == "":
		return "invalid_name_required"
	case len([]rune(name)) > 80:
		return "invalid_name_maxlength"
	case strings.Trim(name, "-_") == "":
		return "invalid_name_punctuation"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r > 127 && r != ' ') {
			return "invalid_name_specials"
		}
	}
	return ""
}

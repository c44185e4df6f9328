package slackemu

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// visibleLocked finds a channel the bot may see: public ones, and private
// ones it is in (others are channel_not_found, as on Slack).
func (e *Emulator) visibleLocked(id string) (*channel, error) {
	ch, ok := e.channels[id]
	if !ok || (ch.Private && !ch.members[e.cfg.BotUserID]) {
		return nil, slackErr("channel_not_found")
	}
	return ch, nil
}

// conversationsCreate creates a channel with the bot as creator and member.
func (e *Emulator) conversationsCreate(a *args) (obj, error) {
	name := a.str("name")
	if code := validChannelName(name); code != "" {
		return nil, slackErr(code)
	}
	private := a.boolean("is_private")
	if private {
		if err := e.needScope("groups:write"); err != nil {
			return nil, err
		}
	}
	if e.channelByNameLocked(name) != nil {
		return nil, slackErr("name_taken")
	}
	ch := e.newChannelLocked(Channel{Name: name, Private: private, Creator: e.cfg.BotUserID,
		Members: []string{e.cfg.BotUserID}})
	return obj{"channel": e.channelJSON(ch)}, nil
}

// conversationsJoin puts the bot in a public channel.
func (e *Emulator) conversationsJoin(a *args) (obj, error) {
	ch, err := e.visibleLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	switch {
	case ch.imUser != "" || ch.Private:
		return nil, slackErr("method_not_supported_for_channel_type")
	case ch.Archived:
		return nil, slackErr("is_archived")
	case ch.members[e.cfg.BotUserID]:
		return obj{"channel": e.channelJSON(ch), "warning": "already_in_channel",
			"response_metadata": obj{"warnings": []string{"already_in_channel"}}}, nil
	}
	e.joinLocked(ch, e.cfg.BotUserID, "")
	return obj{"channel": e.channelJSON(ch)}, nil
}

// conversationsInvite adds users to a channel the bot is in.
func (e *Emulator) conversationsInvite(a *args) (obj, error) {
	ch, err := e.visibleLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	if ch.Private {
		if err := e.needScope("groups:write"); err != nil {
			return nil, err
		}
	}
	users := a.list("users")
	switch {
	case ch.imUser != "":
		return nil, slackErr("method_not_supported_for_channel_type")
	case ch.Archived:
		return nil, slackErr("is_archived")
	case !ch.members[e.cfg.BotUserID]:
		return nil, slackErr("not_in_channel")
	case len(users) == 0:
		return nil, slackErr("no_user")
	}
	for _, u := range users {
		if err := e.invitableLocked(ch, u); err != nil {
			return nil, err
		}
	}
	for _, u := range users {
		e.joinLocked(ch, u, e.cfg.BotUserID)
	}
	return obj{"channel": e.channelJSON(ch)}, nil
}

// invitableLocked reports why u cannot be invited to ch, if so.
func (e *Emulator) invitableLocked(ch *channel, u string) error {
	usr, ok := e.users[u]
	switch {
	case u == e.cfg.BotUserID:
		return slackErr("cant_invite_self")
	case !ok || usr.Deleted:
		return slackErr("user_not_found")
	case ch.members[u]:
		return &apiError{code: "already_in_channel", extra: obj{
			"errors": []obj{{"user": u, "ok": false, "error": "already_in_channel"}}}}
	}
	return nil
}

// conversationsInfo answers conversations.info.
func (e *Emulator) conversationsInfo(a *args) (obj, error) {
	ch, err := e.visibleLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	o := e.channelJSON(ch)
	if a.boolean("include_num_members") {
		o["num_members"] = len(ch.Members)
	}
	return obj{"channel": o}, nil
}

// conversationsMembers answers conversations.members.
func (e *Emulator) conversationsMembers(a *args) (obj, error) {
	ch, err := e.visibleLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	return obj{"members": slices.Clone(ch.Members), "response_metadata": obj{"next_cursor": ""}}, nil
}

// conversationsList answers conversations.list with cursor pagination.
func (e *Emulator) conversationsList(a *args) (obj, error) {
	types := a.list("types")
	if len(types) == 0 {
		types = []string{"public_channel"}
	}
	var all []obj
	for _, id := range e.chanOrder {
		ch := e.channels[id]
		kind := "public_channel"
		switch {
		case ch.imUser != "":
			kind = "im"
		case ch.Private:
			kind = "private_channel"
		}
		if !slices.Contains(types, kind) || (a.boolean("exclude_archived") && ch.Archived) {
			continue
		}
		if ch.Private && !ch.members[e.cfg.BotUserID] {
			continue
		}
		all = append(all, e.channelJSON(ch))
	}
	page, next, err := paginate(all, a)
	if err != nil {
		return nil, err
	}
	return obj{"channels": page, "response_metadata": obj{"next_cursor": next}}, nil
}

// paginate cuts items by Slack's limit and opaque cursor.
func paginate(items []obj, a *args) ([]obj, string, error) {
	start := 0
	if c := a.str("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		n, perr := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || perr != nil || n < 0 || n > len(items) {
			return nil, "", slackErr("invalid_cursor")
		}
		start = n
	}
	limit := a.integer("limit", 100)
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("offset:%d", end)))
	}
	page := items[start:end]
	if page == nil {
		page = []obj{}
	}
	return page, next, nil
}

// readableLocked finds a channel whose history the bot may read.
func (e *Emulator) readableLocked(id string) (*channel, error) {
	ch, err := e.visibleLocked(id)
	if err != nil {
		return nil, err
	}
	if ch.Private {
		if err := e.needScope("groups:history"); err != nil {
			return nil, err
		}
	}
	if !ch.members[e.cfg.BotUserID] {
		return nil, slackErr("not_in_channel")
	}
	return ch, nil
}

// conversationsHistory answers top-level messages, newest first.
func (e *Emulator) conversationsHistory(a *args) (obj, error) {
	ch, err := e.readableLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	latest, oldest, incl := a.str("latest"), a.str("oldest"), a.boolean("inclusive")
	var msgs []obj
	for i := len(ch.msgs) - 1; i >= 0; i-- {
		m := ch.msgs[i]
		if m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS) || !inWindow(m.TS, oldest, latest, incl) {
			continue
		}
		msgs = append(msgs, historyJSON(e.messageJSON(ch, m), a))
	}
	page, next, err := paginate(msgs, a)
	if err != nil {
		return nil, err
	}
	return obj{"messages": page, "has_more": next != "", "pin_count": 0,
		"channel_actions_ts": nil, "channel_actions_count": 0,
		"response_metadata": obj{"next_cursor": next}}, nil
}

// historyJSON is a message as history and replies list it: its metadata
// only with include_all_metadata=true (Slack: "Return all metadata
// associated with this message", default false).
func historyJSON(m obj, a *args) obj {
	if !a.boolean("include_all_metadata") {
		delete(m, "metadata")
	}
	return m
}

// inWindow applies history's oldest/latest bounds.
func inWindow(ts, oldest, latest string, inclusive bool) bool {
	t := tsTime(ts)
	if oldest != "" {
		o := tsTime(oldest)
		if t.Before(o) || (!inclusive && t.Equal(o)) {
			return false
		}
	}
	if latest != "" {
		l := tsTime(latest)
		if t.After(l) || (!inclusive && t.Equal(l)) {
			return false
		}
	}
	return true
}

// conversationsReplies answers a thread: the parent, then replies.
func (e *Emulator) conversationsReplies(a *args) (obj, error) {
	ch, err := e.readableLocked(a.str("channel"))
	if err != nil {
		return nil, err
	}
	p := ch.find(a.str("ts"))
	if p == nil || p.Deleted {
		return nil, slackErr("thread_not_found")
	}
	if p.ThreadTS != "" && p.ThreadTS != p.TS {
		if p = ch.find(p.ThreadTS); p == nil {
			return nil, slackErr("thread_not_found")
		}
	}
	msgs := []obj{historyJSON(e.messageJSON(ch, p), a)}
	for _, r := range ch.replies(p.TS) {
		msgs = append(msgs, historyJSON(e.messageJSON(ch, r), a))
	}
	page, next, err := paginate(msgs, a)
	if err != nil {
		return nil, err
	}
	return obj{"messages": page, "has_more": next != "",
		"response_metadata": obj{"next_cursor": next}}, nil
}

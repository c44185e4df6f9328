package slackemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Action is a human using an interactive element (a button, checkboxes, a
// select) in a message or in a view.
type Action struct {
	User      string   // who clicks
	Channel   string   // message elements: channel id or "#name"
	MessageTS string   // message elements: the message's ts, or an ephemeral's (for the person who saw it)
	ViewID    string   // view elements (modal or App Home) instead of Channel/MessageTS
	ActionID  string   // the element's action_id
	BlockID   string   // optional: pick the element in this block
	Value     string   // optional: override the button's value
	Selected  []string // checkboxes/selects: the option values chosen
	// Shown, when set, are the message's blocks as the person's client
	// still shows them: an older rendering whose buttons were since
	// removed (Slack clients update messages late, so stale clicks happen).
	Shown json.RawMessage
}

// ErrNoElement is returned when the message or view has no such element.
var ErrNoElement = errors.New("slackemu: no interactive element with that action_id")

// ClickButton clicks a button in a message and waits for the ack.
func (e *Emulator) ClickButton(ctx context.Context, userID, channel, messageTS, actionID string) (Ack, error) {
	return e.Act(ctx, Action{User: userID, Channel: channel, MessageTS: messageTS, ActionID: actionID})
}

// Act sends the block_actions interactive payload Slack sends for the
// action (with a fresh trigger_id and, for messages, a response_url), and
// waits for the ack (Config.AckTimeout unless ctx has a deadline).
func (e *Emulator) Act(ctx context.Context, a Action) (Ack, error) {
	e.mu.Lock()
	payload, err := e.blockActionsLocked(a)
	if err != nil {
		e.mu.Unlock()
		return Ack{}, err
	}
	d := e.enqueueLocked("interactive", "", "block_actions", payload, false)
	e.mu.Unlock()
	ctx, cancel := e.ackContext(ctx)
	defer cancel()
	return e.awaitAck(ctx, d)
}

// blockActionsLocked builds the block_actions payload.
func (e *Emulator) blockActionsLocked(a Action) (obj, error) {
	u, ok := e.users[a.User]
	if !ok || u.IsBot {
		return nil, fmt.Errorf("act: no human user %q", a.User)
	}
	p := obj{"type": "block_actions", "user": e.userRef(u), "api_app_id": e.cfg.AppID,
		"token": e.verification(), "trigger_id": e.newTriggerLocked(a.User),
		"team": obj{"id": e.cfg.TeamID, "domain": e.cfg.TeamDomain}, "enterprise": nil,
		"is_enterprise_install": false, "state": obj{"values": obj{}}}
	var blocks json.RawMessage
	if a.ViewID != "" {
		v, ok := e.views[a.ViewID]
		if !ok || v.User != a.User || v.Closed {
			return nil, fmt.Errorf("act: no open view %s for %s", a.ViewID, a.User)
		}
		blocks = v.Blocks
		p["container"] = obj{"type": "view", "view_id": v.ID}
		p["view"] = e.viewJSON(v, nil)
	} else {
		var err error
		if blocks, err = e.messageActionLocked(a, p); err != nil {
			return nil, err
		}
	}
	act, state, err := findAction(blocks, a)
	if err != nil {
		return nil, err
	}
	p["actions"] = []obj{act}
	if state != nil {
		p["state"] = obj{"values": state}
	}
	return p, nil
}

// messageActionLocked fills the payload's message fields for a click in a
// channel message or in an ephemeral message the clicking person was shown,
// and returns the blocks to find the element in. For an ephemeral, Slack
// sends container.is_ephemeral true and a response_url (which can replace
// or delete it) but no "message": there is none in the channel's history.
func (e *Emulator) messageActionLocked(a Action, p obj) (json.RawMessage, error) {
	ch, err := e.humanChannelLocked(a.User, a.Channel)
	if err != nil {
		return nil, fmt.Errorf("act: %w", err)
	}
	p["channel"] = obj{"id": ch.ID, "name": ch.Name}
	blocks := a.Shown
	if m := ch.find(a.MessageTS); m != nil && !m.Deleted {
		if blocks == nil {
			blocks = m.Blocks
		}
		p["container"] = obj{"type": "message", "message_ts": m.TS, "channel_id": ch.ID, "is_ephemeral": false}
		p["message"] = e.messageJSON(ch, m)
		p["response_url"] = e.newHookLocked("actions", ch.ID, a.User, m.TS)
		return blocks, nil
	}
	x := e.ephemeralLocked(ch.ID, a.User, a.MessageTS)
	if x == nil {
		return nil, fmt.Errorf("act: no message %s in %s", a.MessageTS, a.Channel)
	}
	if blocks == nil {
		blocks = x.Blocks
	}
	p["container"] = obj{"type": "message", "message_ts": x.TS, "channel_id": ch.ID, "is_ephemeral": true}
	p["response_url"] = e.addHookLocked(&hook{kind: "actions", channel: ch.ID, user: a.User, messageTS: x.TS, ephemeral: true})
	return blocks, nil
}

// userRef is the short user object interactive payloads carry.
func (e *Emulator) userRef(u *User) obj {
	return obj{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": e.cfg.TeamID}
}

// findAction locates the element and renders the action and its state.
func findAction(blocks json.RawMessage, a Action) (obj, obj, error) {
	var bs []map[string]any
	_ = json.Unmarshal(blocks, &bs)
	for _, b := range bs {
		blockID, _ := b["block_id"].(string)
		if a.BlockID != "" && a.BlockID != blockID {
			continue
		}
		for _, el := range blockElements(b) {
			if el["action_id"] == a.ActionID {
				act, st := renderAction(el, blockID, a)
				return act, st, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("act %s: %w", a.ActionID, ErrNoElement)
}

// blockElements lists the interactive elements of a block.
func blockElements(b map[string]any) []map[string]any {
	var out []map[string]any
	if els, ok := b["elements"].([]any); ok && b["type"] == "actions" {
		for _, el := range els {
			if m, ok := el.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	for _, k := range []string{"accessory", "element"} {
		if m, ok := b[k].(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// renderAction builds the actions[] entry (and the state for selections).
func renderAction(el map[string]any, blockID string, a Action) (obj, obj) {
	typ, _ := el["type"].(string)
	us := time.Now().UnixMicro()
	act := obj{"type": typ, "action_id": a.ActionID, "block_id": blockID,
		"action_ts": fmt.Sprintf("%d.%06d", us/1e6, us%1e6)}
	switch typ {
	case "button":
		act["text"] = el["text"]
		act["value"] = el["value"]
		if a.Value != "" {
			act["value"] = a.Value
		}
		if s, ok := el["style"]; ok {
			act["style"] = s
		}
		return act, nil
	case "checkboxes", "multi_static_select":
		sel := pickOptions(el, a.Selected)
		act["selected_options"] = sel
		return act, obj{blockID: obj{a.ActionID: obj{"type": typ, "selected_options": sel}}}
	case "static_select", "radio_buttons", "overflow":
		var sel any
		if opts := pickOptions(el, a.Selected); len(opts) > 0 {
			sel = opts[0]
		}
		act["selected_option"] = sel
		return act, obj{blockID: obj{a.ActionID: obj{"type": typ, "selected_option": sel}}}
	}
	act["value"] = a.Value
	return act, nil
}

// pickOptions returns the element's options whose values were chosen.
func pickOptions(el map[string]any, values []string) []any {
	out := []any{}
	opts, _ := el["options"].([]any)
	for _, o := range opts {
		m, _ := o.(map[string]any)
		for _, v := range values {
			if m != nil && m["value"] == v {
				out = append(out, m)
			}
		}
	}
	return out
}

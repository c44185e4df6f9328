package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// View is a modal or App Home view as the bot last set it.
type View struct {
	ID              string          // "V…"
	Type            string          // "modal" or "home"
	User            string          // who sees it
	CallbackID      string          // callback_id
	PrivateMetadata string          // private_metadata
	ExternalID      string          // external_id
	Hash            string          // changes on every update (views.update hash checks)
	Title           string          // the title's text
	Blocks          json.RawMessage // current blocks
	Raw             json.RawMessage // the whole view object the bot last sent
	Closed          bool            // a modal closed by a submission (or response_action clear)
	Opened          time.Time       // when views.open / first views.publish happened
	Updates         int             // views.update / re-publish count
}

// trigger is a trigger_id: valid TriggerTTL, exchangeable once.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// newTriggerLocked issues a trigger_id for an interaction by user.
func (e *Emulator) newTriggerLocked(user string) string {
	now := time.Now()
	id := fmt.Sprintf("%d.%s.%s", now.UnixMilli()/10, randomDigits(10), randomHex(32))
	e.triggers[id] = &trigger{user: user, issued: now}
	return id
}

// exchangeTriggerLocked consumes a trigger_id the way Slack does.
func (e *Emulator) exchangeTriggerLocked(id string) (*trigger, error) {
	t, ok := e.triggers[id]
	switch {
	case id == "" || !ok:
		return nil, slackErr("invalid_trigger_id")
	case t.used:
		return nil, slackErr("exchanged_trigger_id")
	case time.Since(t.issued) > e.cfg.TriggerTTL:
		return nil, slackErr("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// parseView reads and validates the "view" argument; errors are Slack's
// invalid_arguments with response_metadata messages.
func parseView(a *args, surface Surface) (map[string]any, error) {
	raw, ok, err := a.raw("view")
	if !ok || err != nil {
		return nil, blocksError("invalid_arguments", []string{"must provide an object [json-pointer:/view]"})
	}
	var v map[string]any
	if json.Unmarshal(raw, &v) != nil {
		return nil, blocksError("invalid_arguments", []string{"must provide an object [json-pointer:/view]"})
	}
	var errs []string
	if t, _ := v["type"].(string); t != string(surface) {
		errs = append(errs, "must be a valid enum value [json-pointer:/view/type]")
	}
	val := &validator{}
	if surface == SurfaceModal {
		val.text("/view/title", v["title"], 24, true, true)
		val.text("/view/submit", v["submit"], 24, false, true)
		val.text("/view/close", v["close"], 24, false, true)
	}
	for k, n := range map[string]int{"callback_id": 255, "private_metadata": 3000, "external_id": 255} {
		s, _ := v[k].(string)
		val.maxLen("/view/"+k, s, n)
	}
	errs = append(errs, val.errs...)
	blocks, _ := json.Marshal(v["blocks"])
	berrs, ferr := validateBlocksAt(blocks, surface, "/view/blocks")
	if ferr != nil {
		berrs = []string{"must provide an array [json-pointer:/view/blocks]"}
	}
	if errs = append(errs, berrs...); len(errs) > 0 {
		return nil, blocksError("invalid_arguments", errs)
	}
	return v, nil
}

// viewsOpen opens a modal, exchanging a trigger_id.
func (e *Emulator) viewsOpen(a *args) (obj, error) {
	spec, err := parseView(a, SurfaceModal)
	if err != nil {
		return nil, err
	}
	t, err := e.exchangeTriggerLocked(a.str("trigger_id"))
	if err != nil {
		return nil, err
	}
	v := &View{ID: e.nextID("V"), Type: "modal", User: t.user, Opened: time.Now()}
	e.setViewLocked(v, spec)
	e.views[v.ID] = v
	e.viewOrder = append(e.viewOrder, v.ID)
	return obj{"view": e.viewJSON(v, nil)}, nil
}

// viewsUpdate replaces an open view, honouring hash and external_id.
func (e *Emulator) viewsUpdate(a *args) (obj, error) {
	v := e.views[a.str("view_id")]
	if ext := a.str("external_id"); v == nil && ext != "" {
		for _, id := range e.viewOrder {
			if e.views[id].ExternalID == ext {
				v = e.views[id]
			}
		}
	}
	if v == nil {
		return nil, slackErr("not_found")
	}
	if h := a.str("hash"); h != "" && h != v.Hash {
		return nil, slackErr("hash_conflict")
	}
	spec, err := parseView(a, Surface(v.Type))
	if err != nil {
		return nil, err
	}
	e.setViewLocked(v, spec)
	v.Updates++
	return obj{"view": e.viewJSON(v, nil)}, nil
}

// viewsPublish sets a user's App Home.
func (e *Emulator) viewsPublish(a *args) (obj, error) {
	user := a.str("user_id")
	if _, ok := e.users[user]; !ok || user == e.cfg.BotUserID {
		return nil, slackErr("invalid_arguments")
	}
	spec, err := parseView(a, SurfaceHome)
	if err != nil {
		return nil, err
	}
	v := e.views[e.homes[user]]
	if v == nil {
		v = &View{ID: e.nextID("V"), Type: "home", User: user, Opened: time.Now()}
		e.views[v.ID] = v
		e.viewOrder = append(e.viewOrder, v.ID)
		e.homes[user] = v.ID
	} else {
		if h := a.str("hash"); h != "" && h != v.Hash {
			return nil, slackErr("hash_conflict")
		}
		v.Updates++
	}
	e.setViewLocked(v, spec)
	return obj{"view": e.viewJSON(v, nil)}, nil
}

// setViewLocked stores a validated view object on v with a new hash.
func (e *Emulator) setViewLocked(v *View, spec map[string]any) {
	v.Raw, _ = json.Marshal(spec)
	v.Blocks, _ = json.Marshal(spec["blocks"])
	if string(v.Blocks) == "null" {
		v.Blocks = json.RawMessage("[]")
	}
	v.CallbackID, _ = spec["callback_id"].(string)
	v.PrivateMetadata, _ = spec["private_metadata"].(string)
	v.ExternalID, _ = spec["external_id"].(string)
	if t, ok := spec["title"].(map[string]any); ok {
		v.Title, _ = t["text"].(string)
	}
	v.Hash = fmt.Sprintf("%d.%s", time.Now().Unix(), randomHex(8))
	e.notifyLocked()
}

// viewJSON renders a view as views.* answers and interactive payloads show
// it; state holds submitted values (nil for none).
func (e *Emulator) viewJSON(v *View, state map[string]map[string]obj) obj {
	var spec map[string]any
	_ = json.Unmarshal(v.Raw, &spec)
	if state == nil {
		state = map[string]map[string]obj{}
	}
	o := obj{"id": v.ID, "team_id": e.cfg.TeamID, "type": v.Type, "blocks": v.Blocks,
		"private_metadata": v.PrivateMetadata, "callback_id": v.CallbackID,
		"state": obj{"values": state}, "hash": v.Hash, "clear_on_close": spec["clear_on_close"] == true,
		"notify_on_close": spec["notify_on_close"] == true, "close": spec["close"], "submit": spec["submit"],
		"previous_view_id": nil, "root_view_id": v.ID, "app_id": e.cfg.AppID,
		"external_id": v.ExternalID, "app_installed_team_id": e.cfg.TeamID, "bot_id": e.cfg.BotID,
		"title": spec["title"]}
	if v.Type == "home" {
		o["title"] = obj{"type": "plain_text", "text": "View Title", "emoji": true}
	}
	return o
}

// Views returns every modal and home view, oldest first.
func (e *Emulator) Views() []View {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]View, 0, len(e.viewOrder))
	for _, id := range e.viewOrder {
		out = append(out, e.views[id].copy())
	}
	return out
}

// HomeView returns the App Home the bot published for a user.
func (e *Emulator) HomeView(userID string) (View, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.views[e.homes[userID]]
	if !ok {
		return View{}, false
	}
	return v.copy(), true
}

// WaitView blocks until a view satisfying match exists and returns it.
func (e *Emulator) WaitView(ctx context.Context, match func(View) bool) (View, error) {
	var found View
	err := e.waitFor(ctx, func() bool {
		for _, id := range e.viewOrder {
			if c := e.views[id].copy(); match == nil || match(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}

func (v *View) copy() View {
	c := *v
	c.Blocks, c.Raw = slices.Clone(v.Blocks), slices.Clone(v.Raw)
	return c
}

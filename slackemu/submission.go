package slackemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Submission is a human pressing a modal's submit button.
type Submission struct {
	User   string                       // defaults to the view's user
	ViewID string                       // the open modal
	Values map[string]map[string]string // block_id → action_id → typed value (option value for selects; comma-separated for checkboxes)
}

// ErrInvalidInput is returned when Slack's client itself would refuse the
// submission (a required input left empty, a malformed URL): no payload is
// sent.
var ErrInvalidInput = errors.New("slackemu: the Slack client would refuse this input")

// SubmitView sends the view_submission payload (view.state.values,
// private_metadata, callback_id, …), waits for the ack and applies its
// response_action as Slack does: "errors" keeps the modal open, "update"
// replaces it, "clear" or no action closes it. The ack is returned so a
// test can assert response_action and errors.
func (e *Emulator) SubmitView(ctx context.Context, s Submission) (Ack, error) {
	e.mu.Lock()
	v, ok := e.views[s.ViewID]
	if s.User == "" && ok {
		s.User = v.User
	}
	if !ok || v.Type != "modal" || v.Closed || v.User != s.User {
		e.mu.Unlock()
		return Ack{}, fmt.Errorf("submit: no open modal %s for %q", s.ViewID, s.User)
	}
	state, err := viewState(v.Blocks, s.Values)
	if err != nil {
		e.mu.Unlock()
		return Ack{}, err
	}
	u := e.users[s.User]
	payload := obj{"type": "view_submission", "team": obj{"id": e.cfg.TeamID, "domain": e.cfg.TeamDomain},
		"user": e.userRef(u), "api_app_id": e.cfg.AppID, "token": e.verification(),
		"trigger_id": e.newTriggerLocked(s.User), "view": e.viewJSON(v, state),
		"response_urls": []obj{}, "is_enterprise_install": false, "enterprise": nil}
	d := e.enqueueLocked("interactive", "", "view_submission", payload, true)
	e.mu.Unlock()
	ctx, cancel := e.ackContext(ctx)
	defer cancel()
	ack, err := e.awaitAck(ctx, d)
	if err != nil {
		return ack, err
	}
	e.applyResponseAction(v.ID, ack.Payload)
	return ack, nil
}

// applyResponseAction updates the modal according to the ack.
func (e *Emulator) applyResponseAction(viewID string, payload json.RawMessage) {
	var r struct {
		ResponseAction string         `json:"response_action"`
		View           map[string]any `json:"view"`
	}
	_ = json.Unmarshal(payload, &r)
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.views[viewID]
	switch r.ResponseAction {
	case "errors":
		return
	case "update", "push":
		if r.View != nil {
			e.setViewLocked(v, r.View)
			v.Updates++
			return
		}
	}
	v.Closed = true
	e.notifyLocked()
}

// viewState builds view.state.values for the modal's input blocks.
func viewState(blocks json.RawMessage, values map[string]map[string]string) (map[string]map[string]obj, error) {
	var bs []map[string]any
	_ = json.Unmarshal(blocks, &bs)
	state := map[string]map[string]obj{}
	used := 0
	for _, b := range bs {
		el, _ := b["element"].(map[string]any)
		if b["type"] != "input" || el == nil {
			continue
		}
		blockID, _ := b["block_id"].(string)
		actionID, _ := el["action_id"].(string)
		val, given := values[blockID][actionID]
		if given {
			used++
		}
		if err := checkInput(b, el, val); err != nil {
			return nil, fmt.Errorf("submit %s/%s: %w", blockID, actionID, err)
		}
		state[blockID] = map[string]obj{actionID: inputState(el, val)}
	}
	total := 0
	for _, m := range values {
		total += len(m)
	}
	if used != total {
		return nil, fmt.Errorf("submit: %w (values name inputs the modal lacks)", ErrNoElement)
	}
	return state, nil
}

// checkInput applies the client-side checks Slack's client does.
func checkInput(b, el map[string]any, val string) error {
	if strings.TrimSpace(val) == "" {
		if b["optional"] == true {
			return nil
		}
		return fmt.Errorf("%w: required", ErrInvalidInput)
	}
	if el["type"] == "url_text_input" {
		u, err := url.Parse(val)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: not a URL", ErrInvalidInput)
		}
	}
	return nil
}

// inputState renders one input's state entry by element type.
func inputState(el map[string]any, val string) obj {
	typ, _ := el["type"].(string)
	st := obj{"type": typ}
	var v any
	if val != "" {
		v = val
	}
	switch typ {
	case "static_select", "radio_buttons", "external_select":
		var sel any
		if opts := pickOptions(el, []string{val}); len(opts) > 0 {
			sel = opts[0]
		}
		st["selected_option"] = sel
	case "checkboxes", "multi_static_select":
		st["selected_options"] = pickOptions(el, strings.Split(val, ","))
	case "datepicker":
		st["selected_date"] = v
	case "users_select":
		st["selected_user"] = v
	case "conversations_select":
		st["selected_conversation"] = v
	case "channels_select":
		st["selected_channel"] = v
	default:
		st["value"] = v
	}
	return st
}

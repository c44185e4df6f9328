package slackemu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// sendEventLocked wraps an inner event in Slack's event_callback and queues
// it as an events_api envelope; it returns the event id.
func (e *Emulator) sendEventLocked(ev obj) string {
	id := "Ev" + e.nextID("")
	typ, _ := ev["type"].(string)
	channel, _ := ev["channel"].(string)
	ctxRaw := fmt.Sprintf(`{"id":"%s-%s-%s-%s"}`, typ, e.cfg.TeamID, channel, id)
	payload := obj{
		"token":                 e.verification(),
		"team_id":               e.cfg.TeamID,
		"context_team_id":       e.cfg.TeamID,
		"context_enterprise_id": nil,
		"api_app_id":            e.cfg.AppID,
		"event":                 ev,
		"type":                  "event_callback",
		"event_id":              id,
		"event_time":            time.Now().Unix(),
		"authorizations": []obj{{
			"enterprise_id": nil, "team_id": e.cfg.TeamID, "user_id": e.cfg.BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + base64.RawURLEncoding.EncodeToString([]byte(ctxRaw)),
	}
	e.enqueueLocked("events_api", id, typ, payload, false)
	return id
}

// verification is the legacy verification token Slack still puts in
// payloads; stable per emulator.
func (e *Emulator) verification() string {
	return "emu" + e.cfg.AppID + "verification"
}

// SendEvent delivers any inner event (for example {"type":"reaction_added",
// …}) wrapped exactly as Slack wraps events, and returns its event id. Use
// it for event types the helpers do not cover.
func (e *Emulator) SendEvent(event map[string]any) (string, error) {
	if _, ok := event["type"].(string); !ok {
		return "", fmt.Errorf("send event: missing type")
	}
	raw, err := json.Marshal(event)
	if err != nil {
		return "", fmt.Errorf("send event: %w", err)
	}
	var ev obj
	_ = json.Unmarshal(raw, &ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", ErrClosed
	}
	return e.sendEventLocked(ev), nil
}

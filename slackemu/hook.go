package slackemu

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// hook is a response_url: usable 5 times within 30 minutes.
type hook struct {
	kind      string // "commands" or "actions"
	channel   string
	user      string
	messageTS string // actions: the message whose button was clicked
	ephemeral bool   // actions: that message is an ephemeral shown to user
	uses      int
	created   time.Time
}

const (
	hookMaxUses = 5
	hookTTL     = 30 * time.Minute
)

// newHookLocked issues a response_url on the emulator.
func (e *Emulator) newHookLocked(kind, channel, user, messageTS string) string {
	return e.addHookLocked(&hook{kind: kind, channel: channel, user: user, messageTS: messageTS})
}

// addHookLocked registers h (stamping its creation) and returns its
// response_url.
func (e *Emulator) addHookLocked(h *hook) string {
	id := randomDigits(13) + "/" + randomHex(24)
	h.created = time.Now()
	e.hooks[id] = h
	return e.base + "/hooks/" + h.kind + "/" + e.cfg.TeamID + "/" + id
}

// serveHook answers a POST to a response_url and records it as a Call with
// Method "response_url".
func (e *Emulator) serveHook(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/hooks/"), "/", 3)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	call := Call{Method: "response_url", Body: body, At: time.Now(), Args: map[string]string{}}
	status, code := e.useHook(parts, body)
	call.Status = status
	call.Error = code
	call.Response, _ = json.Marshal(obj{"ok": code == "", "error": code})
	if code == "" {
		call.Response = []byte(`{"ok":true}`)
	}
	var flat map[string]any
	if json.Unmarshal(body, &flat) == nil {
		for k, v := range flat {
			s, ok := v.(string)
			if !ok {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			call.Args[k] = s
		}
	}
	e.mu.Lock()
	e.calls = append(e.calls, call)
	e.notifyLocked()
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(call.Response)
}

// useHook applies one response_url message; it returns the status and a
// Slack error code ("" on success).
func (e *Emulator) useHook(parts []string, body []byte) (int, string) {
	if len(parts) != 3 || r0(parts) {
		return http.StatusNotFound, "no_service"
	}
	var rep reply
	if json.Unmarshal(body, &rep) != nil {
		return http.StatusBadRequest, "invalid_payload"
	}
	if len(rep.Blocks) > 0 {
		errs, err := ValidateBlocks(rep.Blocks, SurfaceMessage)
		if err != nil || len(errs) > 0 {
			return http.StatusBadRequest, "invalid_blocks"
		}
	}
	e.mu.Lock()
	h, ok := e.hooks[parts[2]]
	switch {
	case !ok || h.kind != parts[0]:
		e.mu.Unlock()
		return http.StatusNotFound, "no_service"
	case h.uses >= hookMaxUses || time.Since(h.created) > hookTTL:
		e.mu.Unlock()
		return http.StatusNotFound, "used_url"
	}
	h.uses++
	if h.messageTS != "" && (rep.ReplaceOriginal || rep.DeleteOriginal) {
		e.changeOriginalLocked(h, rep)
		e.mu.Unlock()
		return http.StatusOK, ""
	}
	e.mu.Unlock()
	e.showReply(h.channel, h.user, rep.ThreadTS, body, "response_url")
	return http.StatusOK, ""
}

// r0 rejects an empty path part.
func r0(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return false
}

// changeOriginalLocked replaces or deletes the message a button was in.
func (e *Emulator) changeOriginalLocked(h *hook, rep reply) {
	if h.ephemeral {
		e.changeEphemeralLocked(h, rep)
		return
	}
	ch := e.channels[h.channel]
	m := ch.find(h.messageTS)
	if m == nil || m.Deleted {
		return
	}
	if rep.DeleteOriginal {
		m.Deleted = true
		e.notifyLocked()
		e.emitDeleteLocked(ch, m)
		return
	}
	prev := *m
	m.Text, m.Blocks = rep.Text, rep.Blocks
	m.EditedTS, m.editedBy = e.clock.next(), e.cfg.BotUserID
	e.notifyLocked()
	e.emitChangeLocked(ch, &prev, m)
}

// changeEphemeralLocked replaces or deletes an ephemeral message, as Slack
// does for a response_url of a click in one: only its viewer saw it, so no
// event is sent.
func (e *Emulator) changeEphemeralLocked(h *hook, rep reply) {
	for i := range e.ephemerals {
		x := &e.ephemerals[i]
		if x.Channel != h.channel || x.User != h.user || x.TS != h.messageTS {
			continue
		}
		if rep.DeleteOriginal {
			e.ephemerals = slices.Delete(e.ephemerals, i, i+1)
		} else {
			x.Text, x.Blocks, x.Via = rep.Text, rep.Blocks, "response_url"
		}
		e.notifyLocked()
		return
	}
}

package slackemu

import (
	"fmt"
	"time"
)

// Changed returns a channel closed at the next change to the workspace (a
// message, an edit, a view, an ephemeral, a member): what a live page
// waits on before it re-reads. Take it before reading the state you show.
func (e *Emulator) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

// Users returns every user, the bot included, in the order they were added.
func (e *Emulator) Users() []User {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]User, 0, len(e.userOrder))
	for _, id := range e.userOrder {
		out = append(out, *e.users[id])
	}
	return out
}

// CloseView has a human dismiss an open modal (the Cancel button or the
// ×). Slack sends view_closed only to apps that asked (notify_on_close);
// the bot does not, so no event is sent.
func (e *Emulator) CloseView(userID, viewID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.views[viewID]
	if !ok || v.Type != "modal" || v.User != userID || v.Closed {
		return fmt.Errorf("close view: no open modal %s for %q", viewID, userID)
	}
	v.Closed = true
	e.notifyLocked()
	return nil
}

// Trim forgets what a long-running workspace no longer needs: all but the
// last keep recorded calls, envelopes that were acked or given up on (all
// but the last keep), expired trigger_ids and response_urls, closed modals
// beyond the last keep, and all but the last keep ephemerals. Tests never
// need it; the sandbox calls it so memory stays bounded.
func (e *Emulator) Trim(keep int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.calls) > keep {
		e.calls = append([]Call(nil), e.calls[len(e.calls)-keep:]...)
	}
	if len(e.ephemerals) > keep {
		e.ephemerals = append([]Ephemeral(nil), e.ephemerals[len(e.ephemerals)-keep:]...)
	}
	e.trimEnvelopesLocked(keep)
	now := time.Now()
	for id, t := range e.triggers {
		if t.used || now.Sub(t.issued) > e.cfg.TriggerTTL {
			delete(e.triggers, id)
		}
	}
	for id, h := range e.hooks {
		if h.uses >= hookMaxUses || now.Sub(h.created) > hookTTL {
			delete(e.hooks, id)
		}
	}
	e.trimViewsLocked(keep)
}

// trimEnvelopesLocked drops finished envelopes beyond the last keep.
func (e *Emulator) trimEnvelopesLocked(keep int) {
	if len(e.envOrder) <= keep {
		return
	}
	cut := len(e.envOrder) - keep
	kept := make([]string, 0, keep)
	for i, id := range e.envOrder {
		v := e.envs[id]
		if i < cut && (v.d.ack != nil || v.d.gaveUp) {
			v.stopTimer()
			delete(e.envs, id)
			continue
		}
		kept = append(kept, id)
	}
	e.envOrder = kept
}

// trimViewsLocked drops closed modals beyond the last keep views.
func (e *Emulator) trimViewsLocked(keep int) {
	if len(e.viewOrder) <= keep {
		return
	}
	cut := len(e.viewOrder) - keep
	kept := make([]string, 0, keep)
	for i, id := range e.viewOrder {
		if v := e.views[id]; i < cut && v.Type == "modal" && v.Closed {
			delete(e.views, id)
			continue
		}
		kept = append(kept, id)
	}
	e.viewOrder = kept
}

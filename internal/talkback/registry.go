package talkback

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/cla-ops/cla/jobs"
)

// Registry holds the allowlist in force. Readers take Current without
// locking; Reload swaps in a new list only when the new file is valid, so a
// bad edit never disables or loosens TalkBack.
type Registry struct {
	cur  atomic.Pointer[Allowlist]
	log  *slog.Logger
	argv jobs.TemplateLimits // argv templates of every list loaded
}

// NewRegistry starts with list, which may be nil ("not configured": every
// Prepare is refused).
func NewRegistry(list *Allowlist, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	r := &Registry{log: log.With("component", "talkback"), argv: ArgvLimits}
	r.cur.Store(list)
	return r
}

// Current returns the allowlist in force; keep the pointer for the length
// of one request so a reload cannot change it halfway.
func (r *Registry) Current() *Allowlist { return r.cur.Load() }

// SetArgvLimits makes every list loaded from now on render argv templates
// within l (the server's limits.template* settings). Call it before the
// first Reload.
func (r *Registry) SetArgvLimits(l jobs.TemplateLimits) { r.argv = l }

// Reload loads path and swaps it in. On any error the previous allowlist
// stays in force and the error (with file and line) is returned.
func (r *Registry) Reload(path string) error {
	list, err := LoadLimited(path, r.argv)
	if err != nil {
		r.log.Error("talkback reload refused, keeping the previous allowlist", "file", path, "err", err)
		return fmt.Errorf("reload talkback: %w", err)
	}
	r.cur.Store(list)
	r.log.Info("talkback allowlist loaded", "file", path, "actions", len(list.actions))
	return nil
}

package gates

import (
	"context"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// SetEventTimeout shortens Run's per-event deadline; call it before Run.
func (h *Handler) SetEventTimeout(d time.Duration) { h.eventTimeout = d }

// OnEvent handles one event as Run does.
func (h *Handler) OnEvent(ctx context.Context, e jobs.Event) { h.onEvent(ctx, e) }

// HoldAnnouncer stops the announcer's event loop at its next rewrite until
// the returned function is called, so a test can overflow its buffer.
func HoldAnnouncer(a *Announcer) (release func()) {
	a.mu.Lock()
	return a.mu.Unlock
}

// SetRewriteTimeout shortens the announcer's deadline for one rewrite.
func SetRewriteTimeout(a *Announcer, d time.Duration) { a.timeout = d }

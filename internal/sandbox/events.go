package sandbox

import (
	"fmt"
	"net/http"
	"time"
)

// heartbeat keeps idle streams open through proxies.
const heartbeat = 20 * time.Second

// events streams "changed" whenever the workspace changes; the page then
// re-reads its live regions (?partial=1). It parks on the emulator's
// change channel between changes; nothing polls.
func (p *Page) events(w http.ResponseWriter, r *http.Request) {
	select {
	case <-p.done:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// The change signal is taken before the browser can act on what it is
	// sent: before the headers (on open it re-reads the page) and before
	// each event (on it, it re-reads), so no change falls in between.
	changed := p.emu.Changed()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.done:
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-changed:
			changed = p.emu.Changed()
			n++
			fmt.Fprintf(w, "event: changed\ndata: %d\n\n", n)
		}
		fl.Flush()
	}
}

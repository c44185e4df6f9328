package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sseLines puts each line of a payload in its own data field; a bare \r is
// a line break to EventSource too, so it must not let text forge a field.
var sseLines = strings.NewReplacer("\r\n", "\ndata: ", "\r", "\ndata: ", "\n", "\ndata: ")

// heartbeat keeps idle streams open through proxies.
const heartbeat = 20 * time.Second

// events streams a job page's updates as Server-Sent Events: a "log" event
// with the rendered HTML of each new log entry (id = its seq, so a
// reconnecting EventSource resumes with Last-Event-ID) and a "job" event
// when the job's version passes ?v=, on which the page reloads its gates.
// It parks on the broker's Watch between changes; nothing polls.
func (m *Monitor) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	select {
	case <-m.done:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
	}
	if _, err := m.svc.GetJob(r.Context(), id); err != nil {
		http.Error(w, "no such job", httpStatus(err))
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	if last, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && last > after {
		after = last
	}
	version, _ := strconv.ParseUint(r.URL.Query().Get("v"), 10, 64)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	m.cfg.Metrics.streams.Inc()
	defer m.cfg.Metrics.streams.Dec()
	m.stream(w, fl, r, id, after, version)
}

// stream sends what changed since (after, version), then waits for the next
// change, until the client goes away.
func (m *Monitor) stream(w http.ResponseWriter, fl http.Flusher, r *http.Request, id string, after, version uint64) {
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		var ok bool
		if version, after, ok = m.streamOnce(w, fl, r, tick, id, after, version); !ok {
			return
		}
	}
}

// streamOnce sends one round of changes and waits for the next; false ends
// the stream. The broker watch is held only for the round. The session is
// checked after each read and before its result is written: a read that
// precedes a live check precedes the revocation too, so a browser signed
// out (revoked, expired) never receives what changed after that.
func (m *Monitor) streamOnce(w http.ResponseWriter, fl http.Flusher, r *http.Request, tick *time.Ticker, id string, after, version uint64) (uint64, uint64, bool) {
	ctx := r.Context()
	live := func() bool { return m.sessionLive(ctx, viewerOf(ctx).Session) }
	changed, release := m.svc.Broker().Watch(id)
	defer release()
	job, err := m.svc.GetJob(ctx, id)
	if err != nil || !live() {
		return version, after, false
	}
	if job.Version > version {
		version = job.Version
		fmt.Fprintf(w, "event: job\ndata: %d\n\n", version)
	}
	if after, err = m.sendLog(w, r, id, after, live); err != nil {
		return version, after, false
	}
	fl.Flush()
	select {
	case <-ctx.Done():
		return version, after, false
	case <-m.done:
		return version, after, false
	case <-changed:
	case <-tick.C:
		fmt.Fprint(w, ": ping\n\n")
	}
	return version, after, true
}

// errSignedOut ends a stream whose session ended while it was open.
var errSignedOut = errors.New("session ended")

// sendLog writes every log entry after seq as a "log" event, each batch
// only if live still holds once it is read.
func (m *Monitor) sendLog(w http.ResponseWriter, r *http.Request, id string, after uint64, live func() bool) (uint64, error) {
	const batch = 200
	for {
		entries, err := m.svc.Log(r.Context(), id, after, batch)
		if err != nil {
			return after, err
		}
		if len(entries) > 0 && !live() {
			return after, errSignedOut
		}
		for _, e := range entries {
			var buf bytes.Buffer
			if err := m.pages["job"].ExecuteTemplate(&buf, "entry", viewLog(id, e)); err != nil {
				m.log.Error("render log entry", "job", id, "seq", e.Seq, "err", err)
				return after, err
			}
			data := sseLines.Replace(strings.TrimSpace(buf.String()))
			if _, err := fmt.Fprintf(w, "id: %d\nevent: log\ndata: %s\n\n", e.Seq, data); err != nil {
				return after, err
			}
			after = e.Seq
		}
		if len(entries) < batch {
			return after, nil
		}
	}
}

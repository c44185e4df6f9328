package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// keepAlive is how often an idle log stream sends a comment line, so that
// proxies keep it open and dead clients are noticed.
const keepAlive = 15 * time.Second

func (s *Server) annotate(w http.ResponseWriter, r *http.Request, c caller) {
	var in jobs.NewAnnotation
	limit := max(s.maxBody, annotationBodyLimit(s.svc.MaxFileBytes()))
	if err := decode(w, r, limit, &in); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.code == codeTooLarge {
			err = errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
				"the annotation is too large: a file or text annotation may hold at most %s (the file before base64; limits.annotationBytes)",
				jobs.ByteSize(s.svc.MaxFileBytes()))
		}
		s.writeError(w, r, err)
		return
	}
	job, err := s.svc.Annotate(r.Context(), c.id, c.via, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, job)
}

// jobLog answers the log after ?after= as JSON, or streams it as
// Server-Sent Events when the client accepts text/event-stream.
func (s *Server) jobLog(w http.ResponseWriter, r *http.Request, c caller) {
	after, err := afterParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "limit %q must be a positive number", v))
			return
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.streamLog(w, r, after)
		return
	}
	entries, more, err := s.svc.LogPage(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if entries == nil {
		entries = []jobs.LogEntry{}
	}
	body := map[string]any{"entries": entries}
	if more {
		body["more"] = true // cut short by limits.logPageBytes
	}
	writeJSON(w, http.StatusOK, body)
}

// afterParam reads ?after=, or Last-Event-ID when a stream reconnects.
func afterParam(r *http.Request) (uint64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, jobs.Errorf(jobs.EINVALID, "after %q must be a log sequence number", v)
	}
	return n, nil
}

// streamLog sends every entry after `after`, then each new one as it is
// appended: the broker wakes the stream, which re-reads the store by seq,
// so nothing is lost even if wake-ups are merged.
func (s *Server) streamLog(w http.ResponseWriter, r *http.Request, after uint64) {
	id := r.PathValue("id")
	wake, release := s.svc.Broker().Watch(id)
	defer func() { release() }()
	first, more, err := s.svc.LogPage(r.Context(), id, after, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ticker := time.NewTicker(keepAlive)
	defer ticker.Stop()
	entries := first
	for {
		for _, e := range entries {
			if err := writeEvent(w, e); err != nil {
				return
			}
			after = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if len(entries) < 1000 && !more {
			if !s.idle(w, r, rc, ticker, wake) {
				return
			}
			release()
			wake, release = s.svc.Broker().Watch(id)
		}
		if entries, more, err = s.svc.LogPage(r.Context(), id, after, 1000); err != nil {
			s.log.Warn("log stream", "job", id, "err", err)
			return
		}
	}
}

// idle waits for a wake-up, sending keep-alives; false ends the stream.
func (s *Server) idle(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, ticker *time.Ticker, wake <-chan struct{}) bool {
	s.metrics.waiting.Inc()
	defer s.metrics.waiting.Dec()
	for {
		select {
		case <-wake:
			return true
		case <-r.Context().Done():
			return false
		case <-s.stopping.Done():
			return false
		case <-ticker.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return false
			}
			if rc.Flush() != nil {
				return false
			}
		}
	}
}

func writeEvent(w http.ResponseWriter, e jobs.LogEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write([]byte("id: " + strconv.FormatUint(e.Seq, 10) + "\nevent: log\ndata: " + string(data) + "\n\n"))
	return err
}

package web

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cla-ops/cla/internal/metrics"
)

var (
	httpRequests = metrics.NewCounter("cla_http_requests_total",
		"HTTP requests answered, by route pattern and status code.", "route", "code")
	httpDuration = metrics.NewHistogram("cla_http_request_duration_seconds",
		"Time to answer an HTTP request, by route pattern (long-polls and streams included).",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 120}, "route")
	httpWaiting = metrics.NewGauge("cla_http_waiting",
		"Long-polls and log streams parked until their job changes.")
)

// recorder remembers the status a handler wrote. It keeps Flush (for the
// event stream) and unwraps for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status code.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts the response as written.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes flushes through (server-sent events).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes hijacking through.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap returns the cause.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and times every request by its route pattern (never
// its path, which may carry an id or a callback token).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start).Seconds()
		httpRequests.Inc(route, strconv.Itoa(rec.status))
		httpDuration.Observe(took, route)
		s.requestLog(r, rec.status, took)
	})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := metrics.WriteText(w); err != nil {
		s.log.Warn("write metrics", "err", err)
	}
}

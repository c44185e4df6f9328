package slackemu

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Fault is an injected failure for one Web API method, so tests can check
// the bot's rate-limit handling, retries and timeouts.
type Fault struct {
	// Status is the HTTP status to answer: 429 (with Retry-After) or a 5xx.
	// Zero answers normally after Latency (or with Error, if set).
	Status int
	// RetryAfter is sent as the Retry-After header (whole seconds, at least
	// 1) with a 429.
	RetryAfter time.Duration
	// Latency delays the answer; the request's own cancellation cuts it short.
	Latency time.Duration
	// Error answers HTTP 200 {"ok":false,"error":Error} (e.g. "fatal_error").
	Error string
	// Times is how many calls the fault applies to; 0 means every call.
	Times int
	// AfterEffect lets the call take effect first (a message is posted, a
	// view published) and only then answers with the fault: Slack acted
	// but the caller never learned it, as when a reply is lost or the
	// caller dies before reading it.
	AfterEffect bool
	// Applied, if not nil, is sent the method's name (without blocking:
	// give it room) as the fault begins on a call, so that a test can act
	// while that call is still waiting out its Latency.
	Applied chan<- string
}

// InjectFault adds a fault to method ("*" for every method). Faults are used
// in the order injected; a fault with Times left is consumed call by call.
func (e *Emulator) InjectFault(method string, f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cp := f
	e.faults[method] = append(e.faults[method], &cp)
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = map[string][]*Fault{}
}

// takeFault picks the fault for this call of method, consuming one use.
func (e *Emulator) takeFault(name string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, key := range []string{name, "*"} {
		list := e.faults[key]
		if len(list) == 0 {
			continue
		}
		f := *list[0]
		if list[0].Times > 0 {
			list[0].Times--
			if list[0].Times == 0 {
				e.faults[key] = list[1:]
			}
		}
		return &f
	}
	return nil
}

// apply waits out the latency and reports the faulty answer, if any.
func (f *Fault) apply(ctx context.Context, hdr http.Header) (int, []byte, bool) {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		hdr.Set("Retry-After", strconv.Itoa(max(secs, 1)))
		return f.Status, errBody("ratelimited", nil), true
	case f.Status >= 500:
		hdr.Set("Content-Type", "text/html")
		return f.Status, []byte("<html><body>slackemu injected " + strconv.Itoa(f.Status) + "</body></html>"), true
	case f.Status != 0:
		return f.Status, errBody("injected_fault", nil), true
	case f.Error != "":
		return http.StatusOK, errBody(f.Error, nil), true
	}
	return 0, nil, false
}

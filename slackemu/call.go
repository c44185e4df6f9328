package slackemu

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// Call is one recorded Web API request, kept so tests can assert what the
// bot asked Slack to do (and what it was told).
type Call struct {
	Method   string            // "chat.postMessage"
	Params   url.Values        // query string and form fields as sent
	Body     json.RawMessage   // the JSON body, when the client sent JSON
	Args     map[string]string // every argument as a string, token left out
	At       time.Time         // when the request arrived
	Status   int               // HTTP status answered
	Error    string            // Slack error code answered, "" on success
	Response json.RawMessage   // the body answered
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == 200 && c.Error == "" }

// Arg returns one argument as a string, whatever the encoding.
func (c Call) Arg(name string) string { return c.Args[name] }

// Decode unmarshals the response body into v, e.g. to read back a ts.
func (c Call) Decode(v any) error { return json.Unmarshal(c.Response, v) }

// Calls returns the recorded calls to method, oldest first; "" returns all.
func (e *Emulator) Calls(method string) []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Call
	for _, c := range e.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls, e.g. after a test's setup phase.
func (e *Emulator) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = nil
}

// WaitCall blocks until a call to method satisfying match (nil matches all)
// has been recorded — already or in the future — and returns the first one.
func (e *Emulator) WaitCall(ctx context.Context, method string, match func(Call) bool) (Call, error) {
	var found Call
	err := e.waitFor(ctx, func() bool {
		for _, c := range e.calls {
			if (method == "" || c.Method == method) && (match == nil || match(c)) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}

package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// Default deadlines of a Web API call.
const (
	// CallTimeout bounds one request on the wire: a hung Slack answers
	// nothing within it and the call fails instead of stalling its caller.
	CallTimeout = 15 * time.Second
	// ClientTimeout bounds a whole call, its wait for the rate budget
	// included (http.Client.Timeout).
	ClientTimeout = 2 * time.Minute
)

// maxPacedBody is how much of a request body is read to find its channel.
const maxPacedBody = 1 << 20

// Transport is the http.RoundTripper of the Slack Web API client: every
// call waits for its Budget (per method, and per channel for
// chat.postMessage) and each request gets its own deadline.
type Transport struct {
	// Budget paces calls; nil paces nothing.
	Budget *Budget
	// Timeout bounds one request on the wire (default CallTimeout).
	Timeout time.Duration
	// Base sends the requests (default webAPITransport).
	Base http.RoundTripper
}

// webAPITransport is the default transport of Web API calls. Every call
// goes to one host, and the outbox alone posts to 16 channels at once (its
// Slack budget) besides the bot's own calls, so it keeps up to 32 idle
// connections there; http.DefaultTransport keeps 2 per host and opens a
// new connection, TLS handshake included, for every call beyond them.
var webAPITransport http.RoundTripper = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}()

// NewClient is the HTTP client for the Slack Web API: paced by budget,
// with a deadline per request (CallTimeout) and per call (ClientTimeout).
func NewClient(budget *Budget, base http.RoundTripper) *http.Client {
	return &http.Client{Timeout: ClientTimeout, Transport: &Transport{Budget: budget, Timeout: CallTimeout, Base: base}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = webAPITransport
	}
	if t.Budget != nil && !isPaced(req.Context()) {
		method := path.Base(req.URL.Path)
		channel := ""
		if _, ok := t.Budget.limits.Channel[method]; ok {
			req = req.Clone(req.Context()) // its body is read and replaced
			channel = channelOf(req)
		}
		if err := t.Budget.Wait(req.Context(), method, channel); err != nil {
			return nil, err
		}
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = CallTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends the request's deadline when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close implements io.Closer.
func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// channelOf reads the channel argument of a request (form or JSON body, or
// query string) and puts the body back.
func channelOf(req *http.Request) string {
	if c := req.URL.Query().Get("channel"); c != "" {
		return c
	}
	if req.Body == nil || req.Body == http.NoBody {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxPacedBody))
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		var v struct {
			Channel string `json:"channel"`
		}
		_ = json.Unmarshal(data, &v)
		return v.Channel
	}
	form, _ := url.ParseQuery(string(data))
	return form.Get("channel")
}

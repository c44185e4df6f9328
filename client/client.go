// Package client is the Go client of the cla HTTP API (/v1). The cla CLI and
// the workflow runner use it; pipelines written in Go can too. It speaks the
// JSON of SPEC §3 and returns the domain types of package jobs.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Client calls one cla server with one bearer token. It is safe for
// concurrent use.
type Client struct {
	server string
	token  string
	// Via is the door recorded in the audit trail ("api" by default; the
	// CLI sets "cli"). The server accepts api, cli and web.
	Via string
	// HTTP is the transport; it must not have a Timeout shorter than the
	// long-polls it carries (WaitJob, StreamLog).
	HTTP *http.Client
}

// New returns a client for server (like "http://127.0.0.1:8080") that
// authenticates with token.
func New(server, token string) *Client {
	return &Client{server: strings.TrimRight(server, "/"), token: token, Via: jobs.ViaAPI, HTTP: &http.Client{}}
}

// APIError is an answer other than 2xx from the server. Code is the stable
// error code (not_found, conflict, forbidden, invalid, unauthorized, ...).
type APIError struct {
	Status  int
	Code    string
	Message string
	// Hint says what would allow a refused request, when the server knows.
	Hint string
}

// Error returns the server's message, which is written for people.
func (e *APIError) Error() string { return e.Message }

// IsCode reports whether err is an APIError with the given code.
func IsCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// Temporary reports whether err means the server could not be reached or
// answered that it is unavailable, so that waiting callers retry instead of
// giving up (a server restart must not fail a pipeline).
func Temporary(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable ||
			e.Status == http.StatusGatewayTimeout
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || badCertificate(err) {
		return false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// badCertificate reports a TLS certificate the client does not trust:
// retrying cannot fix it, so a waiting CLI must say so rather than wait
// forever.
func badCertificate(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// do sends one request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

// send performs the request and turns a non-2xx answer into an *APIError.
func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.Via != "" {
		req.Header.Set("X-Cla-Via", c.Via)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.server+path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
		Hint  string `json:"hint"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Code, e.Message, e.Hint = body.Code, body.Error, body.Hint
		return e
	}
	e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	e.Message = fmt.Sprintf("server answered %s", resp.Status)
	if text := strings.TrimSpace(string(data)); text != "" && len(text) < 200 {
		e.Message += ": " + text
	}
	return e
}

func jobPath(id string, rest ...string) string {
	p := "/v1/jobs/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// Health checks that the server is up (GET /healthz).
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil)
}

// Server returns the base URL the client talks to.
func (c *Client) Server() string { return c.server }

// retryDelay is the backoff after the n-th consecutive failure: 250ms
// doubling to 5s.
func retryDelay(n int) time.Duration {
	d := 250 * time.Millisecond << min(n, 5)
	return min(d, 5*time.Second)
}

// WebLogin asks for a one-time sign-in link to the web monitor for the
// identity of the client's token.
func (c *Client) WebLogin(ctx context.Context) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/web-login", struct{}{}, &out); err != nil {
		return "", err
	}
	return out.URL, nil
}

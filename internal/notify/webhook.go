package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/internal/webhooksig"
	"github.com/cla-ops/cla/jobs"
)

// Webhook headers. The signature headers (package webhooksig) cover the
// timestamp and the body, so a receiver can refuse both forged and
// replayed requests.
const (
	HeaderTimestamp      = webhooksig.HeaderTimestamp
	HeaderSignature      = webhooksig.HeaderSignature
	HeaderEvent          = "X-Cla-Event"
	HeaderNotificationID = "X-Cla-Notification-Id"
)

// WebhookPayload is the JSON body POSTed to a webhook channel. A receiver
// completes the gate by POSTing to CallbackURL, and drops a redelivery by
// NotificationID.
type WebhookPayload struct {
	Event          string     `json:"event"`
	Job            *jobs.Job  `json:"job"`
	Gate           *jobs.Gate `json:"gate"`
	Assignees      []string   `json:"assignees,omitempty"`
	JobURL         string     `json:"jobUrl"`
	CallbackURL    string     `json:"callbackUrl"`
	NotificationID string     `json:"notificationId"`
}

// Webhook is the jobs.Notifier of channel type "webhook": a signed JSON
// POST per notification. Any answer but 2xx is a failure the outbox
// retries; 429 and 503 with Retry-After are honoured.
type Webhook struct {
	secret    []byte
	publicURL string
	callbacks *Callbacks
	client    *http.Client
	now       func() time.Time
	log       *slog.Logger
}

// WithLogger sets where refused destinations are logged in detail.
func (w *Webhook) WithLogger(log *slog.Logger) *Webhook { w.log = log; return w }

// NewWebhook builds the webhook notifier. callbacks signs the callback URL
// tokens (share it with the web layer, which verifies them); client may be
// nil for a default with a 15 s timeout that does not follow redirects.
func NewWebhook(secret, publicURL string, callbacks *Callbacks, client *http.Client) (*Webhook, error) {
	if secret == "" {
		return nil, errors.New("webhook notifier needs a secret")
	}
	if callbacks == nil {
		return nil, errors.New("webhook notifier needs callbacks")
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return &Webhook{secret: []byte(secret), publicURL: publicURL, callbacks: callbacks, client: client, now: time.Now}, nil
}

// Notify POSTs the notification; events that no longer ask anything (the
// gate closed meanwhile, gate_resolved) are skipped.
func (w *Webhook) Notify(ctx context.Context, n jobs.Notification, job *jobs.Job) error {
	g, ok := actionable(n, job)
	if !ok {
		return nil
	}
	now := w.now()
	callback := ""
	if g.State == jobs.GateOpen { // a closed gate (break-glass) has nothing left to complete
		callback = strings.TrimRight(w.publicURL, "/") + "/v1/callbacks/" + w.callbacks.Sign(job.ID, g.ID, Expiry(g, now))
	}
	body, err := json.Marshal(WebhookPayload{Event: n.Event, Job: job.Redacted(), Gate: g.Redacted(), Assignees: n.Assignees,
		JobURL: jobURL(w.publicURL, job.ID), NotificationID: n.ID, CallbackURL: callback})
	if err != nil {
		return fmt.Errorf("encode webhook payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Channel.Target(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request %s: invalid url", redactURL(n.Channel.Target()))
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &jobs.PermanentError{Err: fmt.Errorf("webhook %s: only http and https URLs are allowed", redactURL(n.Channel.Target()))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cla-webhook/1")
	req.Header.Set(HeaderEvent, n.Event)
	req.Header.Set(HeaderNotificationID, n.ID)
	webhooksig.SetHeaders(req.Header, w.secret, now, body)
	return w.send(req)
}

func (w *Webhook) send(req *http.Request) error {
	target := redactURL(req.URL.String())
	resp, err := w.client.Do(req)
	if err != nil {
		if perm := refusal(err); perm != nil {
			if w.log != nil {
				w.log.Warn("webhook destination refused", "url", target, "err", err)
			}
			return perm
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the full URL
		}
		return fmt.Errorf("post webhook %s: %w", target, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s answered %s", target, resp.Status)
	if d, ok := retryAfter(resp, w.now()); ok {
		return &jobs.RetryAfterError{After: d, Err: err}
	}
	return err
}

// retryAfter reads Retry-After (seconds or an HTTP date) of a 429 or 503.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := resp.Header.Get("Retry-After")
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

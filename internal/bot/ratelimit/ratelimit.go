// Package ratelimit waits out Slack's HTTP 429 answers for Web API calls
// made outside the durable outbox (answers to clicks, commands and
// mentions, look-ups), where there is nobody else to retry them.
// slack-go reports a 429 as *slack.RateLimitedError and does not wait
// itself.
package ratelimit

import (
	"context"
	"errors"
	"time"

	"github.com/slack-go/slack"
)

// MaxWaits is how many 429 answers one Web API call waits out before the
// last error is returned: enough for a burst, not enough to hide an
// overloaded workspace from the logs.
const MaxWaits = 3

// minWait is the shortest pause, for a 429 without a usable Retry-After.
const minWait = 100 * time.Millisecond

// Retry runs a Web API call, waiting out Slack's 429 Retry-After up to
// MaxWaits times within ctx, then gives up with the last error. Any other
// error, and a ctx that ends while waiting, return at once.
func Retry(ctx context.Context, call func(context.Context) error) error {
	for i := 0; ; i++ {
		err := call(ctx)
		var rl *slack.RateLimitedError
		if err == nil || !errors.As(err, &rl) || i == MaxWaits {
			return err
		}
		if !Sleep(ctx, max(rl.RetryAfter, minWait)) {
			return err
		}
	}
}

// Sleep waits d; false if ctx ended first. It is the one context-aware
// wait of the Slack packages (Retry-After, reconnect backoff).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

package bot

import (
	"context"
	"errors"
	"time"

	"github.com/slack-go/slack"
)

// maxRateLimitWaits is how many 429 answers one Web API call waits out.
const maxRateLimitWaits = 3

// retry runs a Web API call, waiting out Slack's 429 Retry-After a few
// times (within ctx) before giving up with the last error.
func retry(ctx context.Context, call func(context.Context) error) error {
	for i := 0; ; i++ {
		err := call(ctx)
		var rl *slack.RateLimitedError
		if err == nil || !errors.As(err, &rl) || i == maxRateLimitWaits {
			return err
		}
		if !sleepCtx(ctx, max(rl.RetryAfter, 100*time.Millisecond)) {
			return err
		}
	}
}

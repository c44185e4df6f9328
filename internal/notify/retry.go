package notify

import (
	"errors"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Retry timing: exponential from retryBase, capped at retryCap, with
// jitter so that many notifications failing together (a target down) do
// not come back in lock step.
const (
	retryBase = time.Second
	retryCap  = 5 * time.Minute
)

// retryDelay is how long to wait after the attempt-th failure (1-based).
// A *jobs.RetryAfterError is honoured exactly; otherwise the delay is
// drawn from [d/2, d) with d = min(cap, base·2^(attempt-1)), jitter in [0, 1).
func retryDelay(err error, attempt int, jitter float64) time.Duration {
	var ra *jobs.RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return ra.After
	}
	d := retryCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 {
		d = min(retryBase<<(attempt-1), retryCap)
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

// shouldLog rate-limits failure entries in the job log: the first failure
// of a notification and every tenth after it.
func shouldLog(attempt int) bool { return attempt == 1 || attempt%10 == 0 }

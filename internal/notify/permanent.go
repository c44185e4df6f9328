package notify

import (
	"errors"

	"github.com/cla-ops/cla/jobs"
)

// Permanent wraps err so that the outbox gives up on the notification.
func Permanent(err error) error { return &jobs.PermanentError{Err: err} }

func isPermanent(err error) bool {
	var p *jobs.PermanentError
	return errors.As(err, &p)
}

package notify_test

import (
	"errors"
	"strconv"

	"github.com/cla-ops/cla/jobs"
)

func asRetryAfter(err error, target **jobs.RetryAfterError) bool { return errors.As(err, target) }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func asPermanent(err error, target **jobs.PermanentError) bool { return errors.As(err, target) }

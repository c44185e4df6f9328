package notify_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
)

func asRetryAfter(err error, target **jobs.RetryAfterError) bool { return errors.As(err, target) }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func asPermanent(err error, target **jobs.PermanentError) bool { return errors.As(err, target) }

// recv takes the next value from ch, failing the test if none arrives
// within 60 s instead of hanging until the test binary times out.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatal("nothing received within 60s")
		panic("unreachable")
	}
}

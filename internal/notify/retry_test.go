package notify

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func TestRetryDelay(t *testing.T) {
	plain := errors.New("boom")
	for _, tc := range []struct {
		err      error
		attempt  int
		jitter   float64
		min, max time.Duration
	}{
		{plain, 1, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{plain, 1, 0.999, 500 * time.Millisecond, time.Second},
		{plain, 2, 0, time.Second, time.Second},
		{plain, 4, 0.5, 6 * time.Second, 6 * time.Second},
		{plain, 9, 0, 128 * time.Second, 128 * time.Second},
		{plain, 10, 0.999, 150 * time.Second, 5 * time.Minute},
		{plain, 1000, 0, 150 * time.Second, 150 * time.Second},
		{plain, 0, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{&jobs.RetryAfterError{After: 42 * time.Second, Err: plain}, 7, 0.9, 42 * time.Second, 42 * time.Second},
		{fmt.Errorf("wrapped: %w", &jobs.RetryAfterError{After: time.Hour, Err: plain}), 1, 0, time.Hour, time.Hour},
		{&jobs.RetryAfterError{After: 0, Err: plain}, 1, 0, 500 * time.Millisecond, 500 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%v/%d/%.1f", tc.err, tc.attempt, tc.jitter), func(t *testing.T) {
			d := retryDelay(tc.err, tc.attempt, tc.jitter)
			require.GreaterOrEqual(t, d, tc.min)
			require.LessOrEqual(t, d, tc.max)
		})
	}
}

func TestShouldLog(t *testing.T) {
	var logged []int
	for a := 1; a <= 30; a++ {
		if shouldLog(a) {
			logged = append(logged, a)
		}
	}
	require.Equal(t, []int{1, 10, 20, 30}, logged)
}

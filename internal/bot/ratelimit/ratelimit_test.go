package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestRetry(t *testing.T) {
	limited := &slack.RateLimitedError{RetryAfter: time.Millisecond}
	other := errors.New("boom")
	cases := []struct {
		name      string
		answers   []error // per call; past the end the call succeeds
		wantCalls int
		wantErr   error
	}{
		{name: "ok at once", wantCalls: 1},
		{name: "429 then ok", answers: []error{limited, limited}, wantCalls: 3},
		{name: "429 MaxWaits times then ok", answers: []error{limited, limited, limited}, wantCalls: 4},
		{name: "429 past MaxWaits gives up", answers: []error{limited, limited, limited, limited, limited},
			wantCalls: MaxWaits + 1, wantErr: limited},
		{name: "other errors are not retried", answers: []error{other}, wantCalls: 1, wantErr: other},
		{name: "zero Retry-After still waits and retries",
			answers: []error{&slack.RateLimitedError{}}, wantCalls: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Retry(t.Context(), func(context.Context) error {
				calls++
				if calls <= len(tc.answers) {
					return tc.answers[calls-1]
				}
				return nil
			})
			require.Equal(t, tc.wantCalls, calls)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestRetry_ContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Retry(ctx, func(context.Context) error {
		calls++
		cancel() // the wait below must not outlive the context
		return &slack.RateLimitedError{RetryAfter: time.Hour}
	})
	var rl *slack.RateLimitedError
	require.ErrorAs(t, err, &rl, "the 429 is returned when the context ends during the wait")
	require.Equal(t, 1, calls)
}

package notify

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func note(id, job, typ, target string, due time.Duration) jobs.Notification {
	ch := jobs.NotifyChannel{Type: jobs.ChannelType(typ)}
	switch typ {
	case "webhook":
		ch.URL = target
	case "email":
		ch.To = target
	default:
		ch.ChannelID = target
	}
	return jobs.Notification{ID: id, JobID: job, Channel: ch, DueAt: t0.Add(due)}
}

var t0 = time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)

func TestPlan(t *testing.T) {
	none := func(string) bool { return false }
	for _, tc := range []struct {
		name    string
		pending []jobs.Notification
		busy    func(string) bool
		want    map[string][]string // lane → ids delivered this pass
		next    time.Duration       // -1: zero
	}{
		{"independent lanes in order",
			[]jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "email", "a@x", 0), note("3", "j", "slack", "C1", 0)},
			none, map[string][]string{"slack\x00C1": {"1", "3"}, "email\x00a@x": {"2"}}, -1},
		{"a deferred head holds its lane only",
			[]jobs.Notification{note("1", "j", "slack", "C1", time.Minute), note("2", "j", "slack", "C1", 0), note("3", "j", "slack", "C2", 0)},
			none, map[string][]string{"slack\x00C2": {"3"}}, time.Minute},
		{"busy lane skipped",
			[]jobs.Notification{note("1", "j", "slack", "C1", 0), note("2", "j", "slack", "C2", 0)},
			func(k string) bool { return k == "slack\x00C1" }, map[string][]string{"slack\x00C2": {"2"}}, -1},
		{"targetless waits behind the same job's older ones",
			[]jobs.Notification{note("1", "j", "slack", "C1", time.Hour), note("2", "j", "slack", "", 0), note("3", "k", "slack", "", 0)},
			none, map[string][]string{"slack\x00job:k": {"3"}}, time.Hour},
		{"targetless before the targeted goes first",
			[]jobs.Notification{note("1", "j", "slack", "", 0), note("2", "j", "slack", "C1", 0)},
			none, map[string][]string{"slack\x00job:j": {"1"}, "slack\x00C1": {"2"}}, -1},
		{"nothing pending", nil, none, map[string][]string{}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lanes, next := plan(tc.pending, t0, tc.busy)
			got := map[string][]string{}
			for _, l := range lanes {
				for _, n := range l.items {
					got[l.key] = append(got[l.key], n.ID)
				}
			}
			require.Equal(t, tc.want, got)
			if tc.next < 0 {
				require.True(t, next.IsZero(), "next %v", next)
			} else {
				require.Equal(t, t0.Add(tc.next), next)
			}
		})
	}
}

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

package talkback

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startBlocking runs a command that sleeps until ctx ends, and returns once
// the process is really running.
func startBlocking(t *testing.T, ex *Executor, ctx context.Context, jobID string) <-chan *Result {
	t.Helper()
	pidfile := filepath.Join(t.TempDir(), "pid")
	l := helperAction(t, "sleeper", "", map[string]string{"PIDFILE": pidfile})
	done := make(chan *Result, 1)
	go func() {
		res, err := ex.Run(ctx, jobID, prepare(t, l, nil))
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidfile); return err == nil }, 10*time.Second, 5*time.Millisecond)
	return done
}

func TestExecutor_Run_PerJobLimit(t *testing.T) {
	ex := NewExecutor(ExecutorConfig{MaxPerJob: 1, MaxTotal: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := startBlocking(t, ex, ctx, "qa-1")

	l := helperAction(t, "exit", "", nil)
	_, err := ex.Run(context.Background(), "qa-1", prepare(t, l, nil))
	r, ok := IsRefusal(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "job qa-1 already has 1 command(s) running; wait for it to finish", r.Reason)

	res, err := ex.Run(context.Background(), "qa-2", prepare(t, l, nil))
	require.NoError(t, err, "another job is not limited")
	require.True(t, res.OK())

	cancel()
	require.True(t, (<-done).Canceled)
	res, err = ex.Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err, "the slot is free again")
	require.True(t, res.OK())
}

func TestExecutor_Run_TotalLimitQueues(t *testing.T) {
	ex := NewExecutor(ExecutorConfig{MaxPerJob: 1, MaxTotal: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := startBlocking(t, ex, ctx, "qa-1")

	l := helperAction(t, "exit", "", nil)
	queued := make(chan error, 1)
	go func() {
		res, err := ex.Run(context.Background(), "qa-2", prepare(t, l, nil))
		if err == nil && !res.OK() {
			err = os.ErrInvalid
		}
		queued <- err
	}()
	require.Eventually(t, func() bool { _, q := ex.Stats(); return q == 1 }, 10*time.Second, 5*time.Millisecond)
	running, _ := ex.Stats()
	require.Equal(t, 1, running)

	waitCtx, stopWaiting := context.WithCancel(context.Background())
	stopWaiting()
	_, err := ex.Run(waitCtx, "qa-3", prepare(t, l, nil))
	r, ok := IsRefusal(err)
	require.True(t, ok, "%v", err)
	require.Contains(t, r.Reason, "too many commands are running")

	cancel()
	<-done
	require.NoError(t, <-queued, "the queued command runs once a slot frees")
	running, q := ex.Stats()
	require.Equal(t, [2]int{0, 0}, [2]int{running, q})
}

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
func startBlocking(t *testing.T, ex *Executor, ctx context.Context, jobID string) <-chan runResult {
	t.Helper()
	pidfile := filepath.Join(t.TempDir(), "pid")
	l := helperAction(t, "sleeper", "", map[string]string{"PIDFILE": pidfile})
	inv := prepare(t, l, nil) // in the test goroutine: prepare may call t.FailNow
	done := make(chan runResult, 1)
	go func() {
		res, err := ex.Run(ctx, jobID, inv)
		done <- runResult{res, err}
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidfile); return err == nil }, 60*time.Second, 5*time.Millisecond)
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
	require.True(t, recvResult(t, done).Canceled)
	res, err = ex.Run(context.Background(), "qa-1", prepare(t, l, nil))
	require.NoError(t, err, "the slot is free again")
	require.True(t, res.OK())
}

func TestExecutor_Run_TotalLimitQueues(t *testing.T) {
	ex := NewExecutor(ExecutorConfig{MaxPerJob: 1, MaxTotal: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := startBlocking(t, ex, ctx, "qa-1")

	l := helperAction(t, "exit", "", nil)
	inv := prepare(t, l, nil)
	queued := make(chan runResult, 1)
	go func() {
		res, err := ex.Run(context.Background(), "qa-2", inv)
		queued <- runResult{res, err}
	}()
	require.Eventually(t, func() bool { _, q := ex.Stats(); return q == 1 }, 60*time.Second, 5*time.Millisecond)
	running, _ := ex.Stats()
	require.Equal(t, 1, running)

	waitCtx, stopWaiting := context.WithCancel(context.Background())
	stopWaiting()
	_, err := ex.Run(waitCtx, "qa-3", prepare(t, l, nil))
	r, ok := IsRefusal(err)
	require.True(t, ok, "%v", err)
	require.Contains(t, r.Reason, "too many commands are running")

	cancel()
	require.True(t, recvResult(t, done).Canceled)
	q := recvResult(t, queued) // fails the test if the queued command never ran
	require.True(t, q.OK(), "the queued command runs once a slot frees: %s", q.Summary())
	running, waiting := ex.Stats()
	require.Equal(t, [2]int{0, 0}, [2]int{running, waiting})
}

// runResult carries what Executor.Run returned out of a goroutine, so that
// only the test goroutine asserts.
type runResult struct {
	*Result
	err error
}

// recvResult waits for a run started in another goroutine, failing the test
// if it errs or does not end within 60 s (far above what a loaded machine
// needs: a failure, not a slow run).
func recvResult(t *testing.T, ch <-chan runResult) *Result {
	t.Helper()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		require.NotNil(t, r.Result)
		return r.Result
	case <-time.After(60 * time.Second):
		t.Fatal("the command did not end within 60s")
		return nil
	}
}

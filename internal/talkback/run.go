package talkback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// drainGrace is how long output is still read after the command exits and
// its group is killed; only a descendant that left the group (setsid) can
// keep the pipe open that long, and it is not waited for.
const drainGrace = 2 * time.Second

// run starts the process in its own group, watches the deadline and the
// context, and collects capped output until the pipe closes.
func (e *Executor) run(ctx context.Context, inv *Invocation) (*Result, error) {
	env, path := e.environ(inv)
	prog, err := lookPath(inv.Argv[0], path)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create output pipe: %w", err)
	}
	defer pr.Close()
	cmd := &exec.Cmd{Path: prog, Args: inv.Argv, Env: env, Dir: inv.Dir,
		Stdout: pw, Stderr: pw, SysProcAttr: procAttr()}
	res := &Result{Argv: inv.Argv, Started: time.Now()}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", inv.Action.Name, err)
	}
	out := &capture{max: inv.MaxOutput}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(out, pr); close(copied) }()
	stop := e.watch(ctx, cmd.Process, inv.Timeout, res)
	waitErr := cmd.Wait()
	stop()
	_ = killGroup(cmd.Process.Pid) // leftovers in the group die with the command
	_ = pr.SetReadDeadline(time.Now().Add(drainGrace))
	<-copied
	res.Duration = time.Since(res.Started)
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.Output, res.Dropped, res.Truncated = string(out.buf), out.dropped, out.dropped > 0
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return nil, fmt.Errorf("wait for %s: %w", inv.Action.Name, waitErr)
	}
	return res, nil
}

// watch kills the process group when the timeout passes or ctx ends, and
// records why in res. The returned stop func waits for the watcher, so res
// is not written after it returns.
func (e *Executor) watch(ctx context.Context, p *os.Process, timeout time.Duration, res *Result) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		var expired <-chan time.Time
		if e.expire != nil {
			expired = e.expire(timeout)
		} else {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-done:
			return
		case <-expired:
			res.TimedOut = true
		case <-ctx.Done():
			res.Canceled = true
		}
		if err := killGroup(p.Pid); err != nil {
			e.log.Error("kill process group", "pid", p.Pid, "err", err)
		}
		_ = p.Kill() // in case the group could not be reached
	}()
	return func() { close(done); <-exited }
}

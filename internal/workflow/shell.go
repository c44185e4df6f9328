package workflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxOutput caps what a step keeps of its output (the tail is kept).
const maxOutput = 64 << 10

// runShell runs config.command with `sh -c`: the pipeline author's own
// code, as in any CI job. Stdout is the step's output (trailing newline
// trimmed); stdout and stderr both stream to the reporter. On timeout or
// cancel the whole process group is killed.
func (r *runner) runShell(ctx context.Context, s *Step, cfg map[string]any) stepOut {
	command, _ := cfg["command"].(string)
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = r.shellEnv(s, cfg)
	cmd.Dir, _ = cfg["dir"].(string)
	if r.opts.Dir != "" && !filepath.IsAbs(cmd.Dir) {
		cmd.Dir = filepath.Join(r.opts.Dir, cmd.Dir)
	}
	setProcessGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return stepOut{Err: fmt.Errorf("start: %w", err)}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return stepOut{Err: fmt.Errorf("start: %w", err)}
	}
	if err := cmd.Start(); err != nil {
		return stepOut{Err: fmt.Errorf("start: %w", err), ExitCode: 127}
	}
	stop := context.AfterFunc(ctx, func() { killProcessGroup(cmd) })
	defer stop()
	var out capture
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.stream(s.ID, stdout, &out) }()
	go func() { defer wg.Done(); r.stream(s.ID, stderr, nil) }()
	waitPipes(&wg, ctx)
	err = cmd.Wait()
	res := stepOut{Output: strings.TrimRight(out.String(), "\n"), ExitCode: cmd.ProcessState.ExitCode()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("killed: %w", context.Cause(ctx))
	case errors.As(err, &exitErr):
		res.Err = fmt.Errorf("exit status %d", res.ExitCode)
	case err != nil:
		res.Err = fmt.Errorf("run: %w", err)
	}
	return res
}

// waitPipes waits for the output readers; once the step is cancelled it
// gives them a moment only, since a grandchild outside the process group
// may keep a pipe open forever.
func waitPipes(wg *sync.WaitGroup, ctx context.Context) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *runner) shellEnv(s *Step, cfg map[string]any) []string {
	env := map[string]string{}
	for k, v := range r.opts.Env {
		env[k] = v
	}
	env["CLA_WORKFLOW"], env["CLA_STEP"], env["CLA_RUN_ID"] = r.w.Name, s.ID, r.st.RunID
	if r.st.JobID != "" {
		env["CLA_JOB_ID"] = r.st.JobID
	}
	if extra, ok := cfg["env"].(map[string]any); ok {
		for k, v := range extra {
			env[k], _ = v.(string)
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// stream sends each line to the reporter and, when keep is set, keeps it.
func (r *runner) stream(id string, rd io.Reader, keep *capture) {
	br := bufio.NewReaderSize(rd, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if keep != nil {
				keep.Write(line)
			}
			r.rep.StepOutput(id, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			return
		}
	}
}

// capture keeps the last maxOutput bytes written to it.
type capture struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends s, dropping the oldest bytes beyond maxOutput.
func (c *capture) Write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, s...)
	if over := len(c.buf) - maxOutput; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
	}
}

// String returns what is kept.
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

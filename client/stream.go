package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// StreamLog follows a job's log over Server-Sent Events, calling fn for
// every entry with seq greater than after, until ctx ends, fn returns an
// error, or the connection drops (then it returns the error; resume with
// the last seq seen).
func (c *Client) StreamLog(ctx context.Context, id string, after uint64, fn func(jobs.LogEntry) error) error {
	path := jobPath(id, "log") + "?after=" + strconv.FormatUint(after, 10)
	resp, err := c.send(ctx, http.MethodGet, path, nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				var e jobs.LogEntry
				if err := json.Unmarshal([]byte(data.String()), &e); err != nil {
					return fmt.Errorf("decode log event: %w", err)
				}
				data.Reset()
				if err := fn(e); err != nil {
					return err
				}
			}
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("log stream of %s: %w", id, err)
	}
	return ctx.Err()
}

// Await long-polls a job until done(job) is true and returns that job. It
// survives server restarts: on a connection error (or 502/503/504) it
// retries with backoff, calling onRetry (if not nil) with the error and the
// delay, and onBack (if not nil) once the server answers again.
func (c *Client) Await(ctx context.Context, id string, done func(*jobs.Job) bool, onRetry func(err error, delay time.Duration), onBack func()) (*jobs.Job, error) {
	var since uint64
	failures := 0
	for {
		job, err := c.WaitJob(ctx, id, since, 60*time.Second)
		if err != nil {
			if !Temporary(err) || ctx.Err() != nil {
				return nil, err
			}
			delay := retryDelay(failures)
			failures++
			if onRetry != nil {
				onRetry(err, delay)
			}
			if err := sleep(ctx, delay); err != nil {
				return nil, err
			}
			continue
		}
		if failures > 0 && onBack != nil {
			onBack()
		}
		failures = 0
		if done(job) {
			return job, nil
		}
		since = job.Version
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

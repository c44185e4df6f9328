package talkback

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Result is what a run produced, for the job log and the chat reply.
type Result struct {
	Argv      []string
	ExitCode  int    // -1 when killed by a signal
	Output    string // stdout and stderr interleaved, at most MaxOutput bytes
	Truncated bool   // output went past MaxOutput; the rest was read and dropped
	Dropped   int64  // bytes dropped after the cap
	TimedOut  bool   // killed (with its process group) at the action's timeout
	Canceled  bool   // killed because the caller's context ended
	Started   time.Time
	Duration  time.Duration
}

// OK reports a clean exit: status 0, not killed.
func (r *Result) OK() bool { return r.ExitCode == 0 && !r.TimedOut && !r.Canceled }

// Summary is a one-line outcome such as "exit 0 after 1.2s".
func (r *Result) Summary() string {
	d := r.Duration.Round(time.Millisecond)
	switch {
	case r.TimedOut:
		return fmt.Sprintf("killed: timed out after %s", d)
	case r.Canceled:
		return fmt.Sprintf("killed: canceled after %s", d)
	}
	return fmt.Sprintf("exit %d after %s", r.ExitCode, d)
}

// Text is the output as a log entry shows it: cut on a character boundary,
// with a note saying how much was dropped.
func (r *Result) Text() string {
	out := r.Output
	if r.Truncated {
		for i := 0; i < utf8.UTFMax-1; i++ { // a rune cut in half by the cap
			if r, size := utf8.DecodeLastRuneInString(out); r != utf8.RuneError || size != 1 {
				break
			}
			out = out[:len(out)-1]
		}
		out = strings.TrimRight(out, "\n") + fmt.Sprintf("\n[output truncated: %d more bytes dropped]", r.Dropped)
	}
	return out
}

// capture keeps the first max bytes written and counts the rest, so a
// flooding command is drained (never blocked on a full pipe) but cannot
// fill memory.
type capture struct {
	max     int64
	buf     []byte
	dropped int64
}

// Write implements io.Writer and never fails.
func (c *capture) Write(p []byte) (int, error) {
	room := c.max - int64(len(c.buf))
	if room > 0 {
		n := min(room, int64(len(p)))
		c.buf = append(c.buf, p[:n]...)
		c.dropped += int64(len(p)) - n
	} else {
		c.dropped += int64(len(p))
	}
	return len(p), nil
}

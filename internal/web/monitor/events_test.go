package monitor

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct{ ID, Type, Data string }

// openStream connects to a job's event stream and parses events the way
// EventSource does (CR, LF and CRLF all end a line).
func (b *browser) openStream(t *testing.T, path, lastID string) <-chan sseEvent {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.f.srv.URL+path, nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := b.c.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan sseEvent, 64)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Split(sseLinesSplit)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if len(data) > 0 {
					ev.Data = strings.Join(data, "\n")
					out <- ev
				}
				ev, data = sseEvent{}, nil
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Type = value
			case "data":
				data = append(data, value)
			}
		}
	}()
	return out
}

func sseLinesSplit(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 == len(data) && !atEOF {
				return 0, nil, nil // maybe CRLF: need one more byte
			}
			if i+1 < len(data) && data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// next waits for the next event, failing after a generous deadline.
func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "stream ended")
		return ev
	case <-time.After(60 * time.Second):
		t.Fatal("no event within 60s")
	}
	return sseEvent{}
}

func TestMonitor_events(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", actionGate())
	alice := f.signIn("alice")
	stream := alice.openStream(t, "/jobs/qa-1/events?after=1&v=1", "")

	ev := next(t, stream)
	require.Equal(t, sseEvent{ID: "2", Type: "log"}, sseEvent{ID: ev.ID, Type: ev.Type})
	require.Contains(t, ev.Data, "opened action gate g1")

	_, err := f.svc.AppendLog(ctx, "qa-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "slack:U1", Via: jobs.ViaSlack,
		Text: "hello <img src=x onerror=alert(1)>\revent: job\rdata: 99\n\nid: 77", Key: "m1"}})
	require.NoError(t, err)
	ev = next(t, stream)
	require.Equal(t, "3", ev.ID)
	require.Equal(t, "log", ev.Type, "a carriage return must not forge a field")
	require.Contains(t, ev.Data, `class="entry k-message" id="log-3"`)
	require.Contains(t, ev.Data, "hello &lt;img src=x onerror=alert(1)&gt;")
	requireInert(t, ev.Data)

	_, _, err = f.svc.Resolve(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActFail, Message: "broken"})
	require.NoError(t, err)
	ev = next(t, stream)
	require.Equal(t, sseEvent{Type: "job", Data: "2"}, ev)
	require.Equal(t, "4", next(t, stream).ID)
	require.Equal(t, "5", next(t, stream).ID)

	t.Run("reconnect resumes after Last-Event-ID", func(t *testing.T) {
		again := alice.openStream(t, "/jobs/qa-1/events?after=0&v=2", "4")
		ev := next(t, again)
		require.Equal(t, "5", ev.ID)
		require.Contains(t, ev.Data, "job status failure")
	})
	t.Run("unknown job", func(t *testing.T) {
		resp, _ := alice.get("/jobs/nope/events")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

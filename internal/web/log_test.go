package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

// TestServer_LongPoll checks that a waiter is woken by a change and that a
// wait with since=current ends with the unchanged job when time runs out.
func TestServer_LongPoll(t *testing.T) {
	f := newFixture(t)
	job := f.actionJob("lp-1", jobs.GateConfig{})
	t.Run("woken by change", func(t *testing.T) {
		done := make(chan reply, 1)
		go func() {
			done <- f.call("GET", fmt.Sprintf("/v1/jobs/lp-1?wait=60s&since=%d", job.Version), tokAlice, nil)
		}()
		// Retry until the waiter has parked on the broker: each retry is a
		// change that must wake it.
		f.waitParked(t, "lp-1")
		_, err := f.svc.Annotate(context.Background(), jobs.Identity{Name: "bob"}, jobs.ViaAPI, "lp-1",
			jobs.NewAnnotation{Kind: "comment", Text: "hi"})
		require.NoError(t, err)
		r := <-done
		require.Equal(t, http.StatusOK, r.status)
		var got jobs.Job
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Greater(t, got.Version, job.Version)
	})
	t.Run("times out unchanged", func(t *testing.T) {
		cur := f.job("lp-1").Version
		r := f.call("GET", fmt.Sprintf("/v1/jobs/lp-1?wait=50ms&since=%d", cur), tokAlice, nil)
		require.Equal(t, http.StatusOK, r.status)
		var got jobs.Job
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Equal(t, cur, got.Version)
	})
	t.Run("since in the past answers at once", func(t *testing.T) {
		r := f.call("GET", "/v1/jobs/lp-1?wait=120s&since=0", tokAlice, nil)
		require.Equal(t, http.StatusOK, r.status)
	})
	t.Run("server stop ends the wait", func(t *testing.T) {
		done := make(chan reply, 1)
		go func() { done <- f.call("GET", "/v1/jobs/lp-1?wait=120s", tokAlice, nil) }()
		f.waitParked(t, "lp-1")
		f.api.Stop()
		r := <-done
		require.Equal(t, http.StatusOK, r.status)
	})
}

// waitParked waits until a long-poll or log stream is parked on a change,
// as the cla_http_waiting gauge of /metrics says (polled, no sleeps).
func (f *fixture) waitParked(t *testing.T, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		r := f.call("GET", "/metrics", "", nil)
		return strings.Contains(string(r.body), "\ncla_http_waiting 1\n")
	}, 60*time.Second, time.Millisecond, "no waiter parked on %s", id)
}

func TestServer_LogStream(t *testing.T) {
	f := newFixture(t)
	f.actionJob("sse-1", jobs.GateConfig{})
	req, err := http.NewRequest("GET", f.srv.URL+"/v1/jobs/sse-1/log", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tokAlice)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := f.srv.Client().Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readEvents(resp)
	first := <-events
	require.Equal(t, uint64(1), first.Seq)
	require.Equal(t, "1", first.id)
	<-events // gate opened
	_, err = f.svc.AppendLog(context.Background(), "sse-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "bob", Text: "on it"}})
	require.NoError(t, err)
	e := <-events
	require.Equal(t, "on it", e.Text)
	require.Equal(t, uint64(3), e.Seq)

	t.Run("Last-Event-ID resumes", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/v1/jobs/sse-1/log", nil)
		req.Header.Set("Authorization", "Bearer "+tokAlice)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Last-Event-ID", "2")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := f.srv.Client().Do(req.WithContext(ctx))
		require.NoError(t, err)
		defer resp.Body.Close()
		e := <-readEvents(resp)
		require.Equal(t, uint64(3), e.Seq)
	})
	t.Run("unknown job", func(t *testing.T) {
		r := f.call("GET", "/v1/jobs/nope/log", tokAlice, nil)
		require.Equal(t, http.StatusNotFound, r.status)
	})
	t.Run("json", func(t *testing.T) {
		r := f.call("GET", "/v1/jobs/sse-1/log?after=1", tokAlice, nil)
		require.Equal(t, http.StatusOK, r.status)
		var out struct{ Entries []jobs.LogEntry }
		require.NoError(t, json.Unmarshal(r.body, &out))
		require.Len(t, out.Entries, 2)
		require.Equal(t, uint64(2), out.Entries[0].Seq)
	})
}

type event struct {
	jobs.LogEntry
	id string
}

func readEvents(resp *http.Response) <-chan event {
	out := make(chan event, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.LogEntry)
			case line == "" && ev.id != "":
				out <- ev
				ev = event{}
			}
		}
	}()
	return out
}

package monitor

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// stepClock is a clock that tests move by hand; safe for the server's
// goroutines to read.
type stepClock struct{ ns atomic.Int64 }

func newStepClock(t0 time.Time) *stepClock {
	c := &stepClock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *stepClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *stepClock) add(d time.Duration) { c.ns.Add(int64(d)) }

type wantSpan struct {
	st       jobs.Status
	from, to time.Duration // after the job's creation
}

// spansOf reads the job's status band as the page draws it.
func spansOf(t *testing.T, f *fixture, id string, t0, end time.Time) []wantSpan {
	t.Helper()
	changes, err := f.mon.statusChanges(context.Background(), id, nil, false)
	require.NoError(t, err)
	var got []wantSpan
	for _, s := range statusSpans(f.job(id), changes, end) {
		var st jobs.Status
		for k, l := range statusLooks {
			if l == s.look {
				st = k
			}
		}
		got = append(got, wantSpan{st, s.from.Sub(t0), s.to.Sub(t0)})
	}
	return got
}

func TestMonitor_statusChanges(t *testing.T) {
	t0 := time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)
	ctx := context.Background()
	patch := func(st jobs.Status) func(*testing.T, *fixture) {
		return func(t *testing.T, f *fixture) {
			_, err := f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", st, "step")
			require.NoError(t, err)
		}
	}
	open := func(kind jobs.GateKind) func(*testing.T, *fixture) {
		return func(t *testing.T, f *fixture) {
			_, _, err := f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: kind, Name: "Step", Assignees: []string{"ops"}})
			require.NoError(t, err)
		}
	}
	resolve := func(a jobs.Action) func(*testing.T, *fixture) {
		return func(t *testing.T, f *fixture) {
			_, _, err := f.svc.Resolve(ctx, f.id("alice"), jobs.ViaWeb, "qa-1", jobs.Resolution{Action: a})
			require.NoError(t, err)
		}
	}
	chat := func(text string) func(*testing.T, *fixture) {
		return func(t *testing.T, f *fixture) {
			_, err := f.svc.AppendLog(ctx, "qa-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "slack:U1", Text: text}})
			require.NoError(t, err)
		}
	}
	m := time.Minute
	for _, tc := range []struct {
		name  string
		steps []func(*testing.T, *fixture) // one every ten minutes
		want  []wantSpan
	}{
		{"patch between gates", []func(*testing.T, *fixture){patch(jobs.StatusInProgress), open(jobs.KindAction),
			resolve(jobs.ActComplete), patch(jobs.StatusSuccessful)}, []wantSpan{
			{jobs.StatusPending, 0, 10 * m}, {jobs.StatusInProgress, 10 * m, 20 * m}, {jobs.StatusActionRequired, 20 * m, 30 * m},
			{jobs.StatusInProgress, 30 * m, 40 * m}, {jobs.StatusSuccessful, 40 * m, 50 * m}}},
		{"no gates", []func(*testing.T, *fixture){patch(jobs.StatusInProgress), patch(jobs.StatusFailure)}, []wantSpan{
			{jobs.StatusPending, 0, 10 * m}, {jobs.StatusInProgress, 10 * m, 20 * m}, {jobs.StatusFailure, 20 * m, 50 * m}}},
		{"cancel with a gate open", []func(*testing.T, *fixture){open(jobs.KindApproval), patch(jobs.StatusCancelled)}, []wantSpan{
			{jobs.StatusPending, 0, 10 * m}, {jobs.StatusAwaitingApproval, 10 * m, 20 * m}, {jobs.StatusCancelled, 20 * m, 50 * m}}},
		{"chat cannot forge a status", []func(*testing.T, *fixture){patch(jobs.StatusInProgress), chat("status failure"),
			chat("job status paused")}, []wantSpan{{jobs.StatusPending, 0, 10 * m}, {jobs.StatusInProgress, 10 * m, 50 * m}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newStepClock(t0)
			f := newFixtureClock(t, clock.Now)
			f.createJob("qa-1", "Deploy", nil)
			for _, step := range tc.steps {
				clock.add(10 * m)
				step(t, f)
			}
			require.Equal(t, tc.want, spansOf(t, f, "qa-1", t0, t0.Add(50*m)))
		})
	}
}

func TestMonitor_timelineOnPage(t *testing.T) {
	t0 := time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)
	clock := newStepClock(t0)
	f := newFixtureClock(t, clock.Now)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", nil)
	clock.add(10 * time.Minute)
	_, err := f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.StatusInProgress, "")
	require.NoError(t, err)
	clock.add(10 * time.Minute)
	_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold"})
	require.NoError(t, err)
	clock.add(10 * time.Minute)
	b := f.signIn("alice")
	const want = `<title>In progress: Mar 13 14:10:00 – Mar 13 14:20:00</title>`
	for _, path := range []string{"/jobs/qa-1", "/jobs/qa-1?fragment=live"} {
		t.Run(path, func(t *testing.T) {
			resp, body := b.get(path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, want)
		})
	}
}

func TestMonitor_timelineLongLog(t *testing.T) {
	t0 := time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)
	clock := newStepClock(t0)
	f := newFixtureClock(t, clock.Now)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", nil)
	chatter := make([]jobs.LogEntry, logPage+100) // the page shows the first logPage entries only
	for i := range chatter {
		chatter[i] = jobs.LogEntry{Kind: jobs.LogMessage, Actor: "slack:U1", Text: "hi"}
	}
	_, err := f.svc.AppendLog(ctx, "qa-1", chatter)
	require.NoError(t, err)
	clock.add(10 * time.Minute)
	_, err = f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.StatusInProgress, "")
	require.NoError(t, err)
	clock.add(10 * time.Minute)
	_, err = f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.StatusSuccessful, "")
	require.NoError(t, err)
	_, body := f.signIn("alice").get("/jobs/qa-1")
	require.Contains(t, body, `<title>In progress: Mar 13 14:10:00 – Mar 13 14:20:00</title>`)
}

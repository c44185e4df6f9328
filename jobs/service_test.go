package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var (
	ci    = jobs.Identity{Name: "ci"}
	alice = jobs.Identity{Name: "alice", Groups: []string{"ops"}}
	bob   = jobs.Identity{Name: "bob", Groups: []string{"ops"}}
	carol = jobs.Identity{Name: "carol"}
)

func newService(t *testing.T) *jobs.Service {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
}

func createWithGate(t *testing.T, svc *jobs.Service, id string, gate jobs.GateConfig) *jobs.Job {
	t.Helper()
	ctx := context.Background()
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "Deploy " + id,
		Context: map[string]any{"resource": map[string]any{"name": "node-7"}}})
	require.NoError(t, err)
	job, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, id, gate)
	require.NoError(t, err)
	return job
}

func TestService_FullJob(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	job := createWithGate(t, svc, "qa-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk",
		Description: "Replace the failed disk in {[.resource.name]}", Assignees: []string{"ops"}, RequireEvidence: true, Timeout: "PT24H"})
	require.Equal(t, jobs.StatusActionRequired, job.Status)
	g := job.OpenGate()
	require.Equal(t, "Replace the failed disk in node-7", g.Description)
	require.NotNil(t, g.Deadline)

	_, _, err := svc.Resolve(ctx, carol, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActComplete, Evidence: &jobs.Evidence{Message: "done"}})
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "not an assignee")
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActComplete})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "evidence missing")
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "wrong kind")
	require.Contains(t, err.Error(), "is an action gate, not an approval gate")

	job, gate, err := svc.Resolve(ctx, alice, jobs.ViaSlack, "qa-1", jobs.Resolution{Action: jobs.ActComplete, Evidence: &jobs.Evidence{URL: "https://x/1"}})
	require.NoError(t, err)
	require.Equal(t, jobs.StatusInProgress, job.Status)
	require.Equal(t, jobs.OutcomeSuccessful, *gate.Outcome)
	require.Equal(t, "alice", *gate.ResolvedBy)
	require.Equal(t, "slack", *gate.ResolvedVia)

	_, _, err = svc.Resolve(ctx, bob, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActComplete, Evidence: &jobs.Evidence{Message: "me too"}})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	require.Contains(t, err.Error(), "already resolved (successful) by alice via slack at")

	// Approval with quorum 2 and no self-approval.
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release", Required: 2})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, ci, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "requester may not approve")
	job, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	require.Equal(t, jobs.StatusAwaitingApproval, job.Status, "1 of 2")
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "one vote per identity")
	job, gate, err = svc.Resolve(ctx, bob, jobs.ViaWeb, "qa-1", jobs.Resolution{Action: jobs.ActApprove, Message: "lgtm"})
	require.NoError(t, err)
	require.Equal(t, jobs.OutcomeApproved, *gate.Outcome)
	require.Len(t, gate.Approvals, 2)
	require.Equal(t, jobs.StatusInProgress, job.Status)

	// Pause and resume, then finish.
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "Wait for window"})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "second"})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "one open gate at a time")
	_, err = svc.Progress(ctx, ci, jobs.ViaAPI, "qa-1", jobs.StatusSuccessful, "")
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "open gate blocks completion")
	job, _, err = svc.Resolve(ctx, carol, jobs.ViaCLI, "qa-1", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	require.Equal(t, jobs.StatusInProgress, job.Status)
	job, err = svc.Progress(ctx, ci, jobs.ViaAPI, "qa-1", jobs.StatusSuccessful, "deployed")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusSuccessful, job.Status)

	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "late"})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "terminal job takes no gates")
	_, err = svc.Annotate(ctx, carol, jobs.ViaAPI, "qa-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "post-mortem"})
	require.NoError(t, err, "terminal job takes annotations")

	log, err := svc.Log(ctx, "qa-1", 0, 0)
	require.NoError(t, err)
	var texts []string
	for _, e := range log {
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	require.NotContains(t, all, "alice also tried to approve", "an attempt on a gate of another kind is no late attempt")
	for _, want := range []string{"job created", "opened action gate g1", "bob also tried to complete", "approved approval gate g2 (Release) (1 of 2)", "status successful: deployed", "post-mortem"} {
		require.Contains(t, all, want)
	}
}

func TestService_ResolveNamedGate(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "n-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "first"})
	_, _, err := svc.Resolve(ctx, alice, jobs.ViaAPI, "n-1", jobs.Resolution{Action: jobs.ActResume, Gate: "g1"})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "n-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "second"})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, bob, jobs.ViaWebhook, "n-1", jobs.Resolution{Action: jobs.ActResume, Gate: "g1"})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "a link for g1 must not resume g2")
	require.Contains(t, err.Error(), "already resolved (resumed) by alice")
	job, err := svc.GetJob(ctx, "n-1")
	require.NoError(t, err)
	require.Equal(t, jobs.GateOpen, job.Gate("g2").State)
}

func TestService_DispatchGateCompletesJob(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	job, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "d-1", Name: "manual", Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "Do it"}})
	require.NoError(t, err)
	require.Equal(t, jobs.StatusActionRequired, job.Status)
	job, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "d-1", jobs.Resolution{Action: jobs.ActFail, Message: "disk missing"})
	require.NoError(t, err)
	require.Equal(t, jobs.StatusFailure, job.Status)
}

func TestService_BadInput(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "qa-2", jobs.GateConfig{Kind: jobs.KindAction, Name: "x"})
	tests := []struct {
		name string
		do   func() error
		code string
	}{
		{"unknown job", func() error { _, err := svc.GetJob(ctx, "nope"); return err }, jobs.ENOTFOUND},
		{"bad id", func() error { _, err := svc.GetJob(ctx, "Bad Id"); return err }, jobs.EINVALID},
		{"create bad id", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "../x", Name: "x"})
			return err
		}, jobs.EINVALID},
		{"create no name", func() error { _, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "x"}); return err }, jobs.EINVALID},
		{"duplicate id", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "qa-2", Name: "x"})
			return err
		}, jobs.ECONFLICT},
		{"unknown gate kind", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "k", Name: "x", Gate: &jobs.GateConfig{Kind: "vote", Name: "x"}})
			return err
		}, jobs.EINVALID},
		{"template error", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "t", Name: "x", Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: "{[.nope.x]}"}})
			return err
		}, jobs.EINVALID},
		{"bad timeout", func() error {
			_, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-2", jobs.GateConfig{Kind: jobs.KindPause, Name: "x", Timeout: "soon"})
			return err
		}, jobs.EINVALID},
		{"bad cron", func() error {
			_, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "qa-2", jobs.GateConfig{Kind: jobs.KindPause, Name: "x", Reminder: &jobs.Reminder{Cron: "every day"}})
			return err
		}, jobs.EINVALID},
		{"unknown action", func() error {
			_, _, err := svc.Resolve(ctx, ci, jobs.ViaAPI, "qa-2", jobs.Resolution{Action: "merge"})
			return err
		}, jobs.EINVALID},
		{"bad progress", func() error { _, err := svc.Progress(ctx, ci, jobs.ViaAPI, "qa-2", jobs.StatusPaused, ""); return err }, jobs.EINVALID},
		{"bad annotation", func() error {
			_, err := svc.Annotate(ctx, ci, jobs.ViaAPI, "qa-2", jobs.NewAnnotation{Kind: "poem", Text: "x"})
			return err
		}, jobs.EINVALID},
		{"oversized file", func() error {
			_, err := svc.Annotate(ctx, ci, jobs.ViaAPI, "qa-2", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "big", Content: make([]byte, 1<<20+1)})
			return err
		}, jobs.ETOOLARGE},
		{"checklist out of range", func() error { _, _, err := svc.ToggleChecklist(ctx, ci, jobs.ViaAPI, "qa-2", 3, true); return err }, jobs.EINVALID},
		{"reassign to nobody", func() error { _, _, err := svc.Reassign(ctx, ci, jobs.ViaAPI, "qa-2", nil); return err }, jobs.EINVALID},
		{"reassign to a blank", func() error {
			_, _, err := svc.Reassign(ctx, ci, jobs.ViaAPI, "qa-2", []string{"ops", " "})
			return err
		}, jobs.EINVALID},
		{"blank assignee", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "b", Name: "x", Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{""}}})
			return err
		}, jobs.EINVALID},
		{"blank escalation assignee", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "e", Name: "x", Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x",
				Escalation: []jobs.Escalation{{After: "1h", Assignees: []string{"@"}}}}})
			return err
		}, jobs.EINVALID},
	}
	for _, tc := range []struct {
		name string
		gate jobs.GateConfig
	}{
		{"blank gate name", jobs.GateConfig{Kind: jobs.KindAction, Name: " "}},
		{"no gate kind", jobs.GateConfig{Name: "x"}},
		{"unknown timezone", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Cron: "0 9 * * *", Timezone: "Mars/Olympus"}}},
		{"cron with seconds", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Cron: "0 0 9 * * *"}}},
		{"cron out of range", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Cron: "61 9 * * *"}}},
		{"reminder with interval and cron", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Interval: "1h", Cron: "0 9 * * *"}}},
		{"empty reminder", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{}}},
		{"bad reminder interval", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Interval: "often"}}},
		{"negative maxReminders", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: -1}}},
		{"quorum too high", jobs.GateConfig{Kind: jobs.KindApproval, Name: "x", Required: 101}},
		{"negative quorum", jobs.GateConfig{Kind: jobs.KindApproval, Name: "x", Required: -1}},
		{"unknown channel type", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Channels: []jobs.NotifyChannel{{Type: "pager", To: "x"}}}},
		{"channel without target", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Channels: []jobs.NotifyChannel{{Type: "email"}}}},
		{"bad escalation after", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Escalation: []jobs.Escalation{{After: "later", Assignees: []string{"lead"}}}}},
		{"bad escalation channel", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Escalation: []jobs.Escalation{{After: "1h", Channels: []jobs.NotifyChannel{{Type: "webhook"}}}}}},
		{"blank checklist item", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Checklist: []string{"backup", "  "}}},
		{"unclosed template", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: "disk {[ .resource.name"}},
	} {
		tests = append(tests, struct {
			name string
			do   func() error
			code string
		}{"gate config: " + tc.name, func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "cfg", Name: "x", Gate: &tc.gate})
			return err
		}, jobs.EINVALID})
	}
	tests = append(tests, []struct {
		name string
		do   func() error
		code string
	}{
		{"id too long", func() error {
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: strings.Repeat("a", 65), Name: "x"})
			return err
		}, jobs.EINVALID},
		{"resolve unknown job", func() error {
			_, _, err := svc.Resolve(ctx, ci, jobs.ViaAPI, "nope", jobs.Resolution{Action: jobs.ActComplete})
			return err
		}, jobs.ENOTFOUND},
		{"open gate on unknown job", func() error {
			_, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "nope", jobs.GateConfig{Kind: jobs.KindPause, Name: "x"})
			return err
		}, jobs.ENOTFOUND},
		{"progress unknown job", func() error {
			_, err := svc.Progress(ctx, ci, jobs.ViaAPI, "nope", jobs.StatusSuccessful, "")
			return err
		}, jobs.ENOTFOUND},
		{"annotate unknown job", func() error {
			_, err := svc.Annotate(ctx, ci, jobs.ViaAPI, "nope", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "x"})
			return err
		}, jobs.ENOTFOUND},
		{"resolve a gate that is not open", func() error {
			_, _, err := svc.Resolve(ctx, ci, jobs.ViaAPI, "qa-2", jobs.Resolution{Action: jobs.ActComplete, Gate: "g9"})
			return err
		}, jobs.ECONFLICT},
		{"empty comment", func() error {
			_, err := svc.Annotate(ctx, ci, jobs.ViaAPI, "qa-2", jobs.NewAnnotation{Kind: jobs.AnnotationComment})
			return err
		}, jobs.EINVALID},
		{"negative checklist item", func() error { _, _, err := svc.ToggleChecklist(ctx, ci, jobs.ViaAPI, "qa-2", -1, true); return err }, jobs.EINVALID},
	}...)
	before, err := svc.GetJob(ctx, "qa-2")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.code, jobs.ErrorCode(tt.do()))
		})
	}
	after, err := svc.GetJob(ctx, "qa-2")
	require.NoError(t, err)
	require.Equal(t, before.Version, after.Version, "bad input changes nothing")
	for _, id := range []string{"cfg", "nope"} {
		_, err = svc.GetJob(ctx, id)
		require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "refused input created no job %s", id)
	}
}

func TestService_ChecklistAndTrap(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "c-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Checks", Checklist: []string{"backup", "drain"}})
	_, err := svc.Progress(ctx, ci, jobs.ViaAPI, "c-1", jobs.StatusInProgress, "")
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	_, _, err = svc.ToggleChecklist(ctx, alice, jobs.ViaWeb, "c-1", 0, true)
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaWeb, "c-1", jobs.Resolution{Action: jobs.ActComplete})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
	require.Contains(t, err.Error(), "drain")
	_, _, err = svc.ToggleChecklist(ctx, alice, jobs.ViaWeb, "c-1", 1, true)
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaWeb, "c-1", jobs.Resolution{Action: jobs.ActComplete})
	require.NoError(t, err)

	for _, tc := range []struct {
		action jobs.Action
		want   jobs.Status
	}{{jobs.ActRetry, jobs.StatusInProgress}, {jobs.ActSkip, jobs.StatusInProgress}, {jobs.ActAbort, jobs.StatusFailure}} {
		_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "c-1", jobs.GateConfig{Kind: jobs.KindTrap, Name: "step failed"})
		require.NoError(t, err)
		job, gate, err := svc.Resolve(ctx, alice, jobs.ViaAPI, "c-1", jobs.Resolution{Action: tc.action})
		require.NoError(t, err)
		require.Equal(t, tc.want, job.Status)
		require.Equal(t, string(tc.action), string(*gate.Outcome))
	}
}

func TestService_FirstResolutionWins(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "race", jobs.GateConfig{Kind: jobs.KindAction, Name: "x"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := svc.Resolve(ctx, jobs.Identity{Name: "u" + string(rune('a'+i%26))}, jobs.ViaAPI, "race",
				jobs.Resolution{Action: jobs.ActComplete})
			mu.Lock()
			codes[jobs.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, map[string]int{"": 1, jobs.ECONFLICT: 99}, codes)
}

func TestService_WaitWakesOnChange(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	job := createWithGate(t, svc, "w-1", jobs.GateConfig{Kind: jobs.KindPause, Name: "x"})
	got := make(chan *jobs.Job, 1) // buffered: the waiter never blocks if the test already failed
	errs := make(chan error, 1)
	go func() {
		j, err := svc.Wait(ctx, "w-1", job.Version)
		errs <- err
		got <- j
	}()
	_, _, err := svc.Resolve(ctx, alice, jobs.ViaAPI, "w-1", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	select {
	case j := <-got:
		require.NoError(t, <-errs)
		require.Greater(t, j.Version, job.Version)
	case <-time.After(60 * time.Second):
		t.Fatal("waiter was not woken")
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	j, err := svc.Wait(short, "w-1", 1<<40)
	require.NoError(t, err)
	require.Equal(t, "w-1", j.ID, "an ended wait returns the current job")
}

func TestService_ChannelsAndLog(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "a", jobs.GateConfig{Kind: jobs.KindPause, Name: "x"})
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "b", Name: "b"})
	require.NoError(t, err)
	_, err = svc.BindChannel(ctx, alice, jobs.ViaSlack, "a", jobs.Channel{ID: "C1", Name: "job-a"})
	require.NoError(t, err)
	_, err = svc.BindChannel(ctx, alice, jobs.ViaSlack, "a", jobs.Channel{ID: "C1", Name: "job-a"})
	require.NoError(t, err, "binding twice is harmless")
	_, err = svc.BindChannel(ctx, alice, jobs.ViaSlack, "b", jobs.Channel{ID: "C1", Name: "job-a"})
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err))
	job, err := svc.JobForChannel(ctx, "C1")
	require.NoError(t, err)
	require.Len(t, job.Channels, 1)

	entry := jobs.LogEntry{Kind: jobs.LogMessage, Actor: "alice", Text: "hi", Key: "slack:C1:1.1"}
	added, err := svc.AppendLog(ctx, "a", []jobs.LogEntry{entry})
	require.NoError(t, err)
	require.Len(t, added, 1)
	added, err = svc.AppendLog(ctx, "a", []jobs.LogEntry{entry})
	require.NoError(t, err)
	require.Empty(t, added, "a redelivered message is logged once")

	// A gate opened with a bound channel notifies it through the outbox.
	due, _, err := svc.Store().Outbox(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, due, "no channels when the first gate opened")
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "a", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "a", jobs.GateConfig{Kind: jobs.KindAction, Name: "y",
		Channels: []jobs.NotifyChannel{{Type: "email", To: "ops@example.com"}}})
	require.NoError(t, err)
	due, _, err = svc.Store().Outbox(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	var targets []string
	for _, n := range due {
		targets = append(targets, n.Event+" "+string(n.Channel.Type)+":"+n.Channel.Target())
	}
	require.Contains(t, targets, "gate_opened email:ops@example.com")
	require.Contains(t, targets, "gate_opened slack:C1")
}

func TestService_WaitingOn(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "w-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Assignees: []string{"ops"}})
	createWithGate(t, svc, "w-2", jobs.GateConfig{Kind: jobs.KindApproval, Name: "y", Assignees: []string{"carol"}})
	createWithGate(t, svc, "w-3", jobs.GateConfig{Kind: jobs.KindPause, Name: "z", Assignees: []string{"alice"}})
	got, err := svc.WaitingOn(ctx, alice, 0)
	require.NoError(t, err)
	var ids []string
	for _, j := range got {
		ids = append(ids, j.ID)
	}
	require.Equal(t, []string{"w-3", "w-1"}, ids)
	got, err = svc.WaitingOn(ctx, jobs.Identity{Name: "nobody"}, 0)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestService_WaitLeavesNoWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	svc := newService(t)
	_, err := svc.Wait(ctx, "no-such-job", 0)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	cancel()
	createWithGate(t, svc, "w-2", jobs.GateConfig{Kind: jobs.KindPause, Name: "x"})
	_, err = svc.Wait(ctx, "w-2", 1<<40) // ends at once: ctx is done
	require.NoError(t, err)
	_, release := svc.Broker().Watch("probe")
	release()
	ch, release := svc.Broker().Watch("w-2")
	defer release()
	_, _, err = svc.Resolve(context.Background(), alice, jobs.ViaAPI, "w-2", jobs.Resolution{Action: jobs.ActResume})
	require.NoError(t, err)
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatal("a watch taken after finished waits still wakes")
	}
}

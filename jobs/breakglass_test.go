package jobs_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var root = jobs.Identity{Name: "root", Admin: true}

// testClock is a settable clock for Options.Now, safe to read from the
// service's own goroutines while a test moves it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// Advance moves the clock on by d.
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func newServiceWith(t *testing.T, opts jobs.Options) (*jobs.Service, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return jobs.NewService(db, jobs.NewBroker(), opts), db
}

func TestService_BreakGlass(t *testing.T) {
	ctx := context.Background()
	approval := jobs.GateConfig{Kind: jobs.KindApproval, Name: "Go live", Required: 2, Assignees: []string{"sre"},
		Channels: []jobs.NotifyChannel{{Type: "email", To: "sre@example.com"}}}
	action := jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}, RequireEvidence: true,
		Checklist: []string{"disk in"}}
	tests := []struct {
		name     string
		opts     jobs.Options
		gate     jobs.GateConfig
		actor    jobs.Identity
		r        jobs.Resolution
		code     string
		contains string
		outcome  jobs.Outcome
	}{
		{name: "admin overrides quorum and assignees", gate: approval, actor: root,
			r: jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "prod down, sre unreachable"}}, outcome: jobs.OutcomeApproved},
		{name: "admin completes without evidence or ticks; the reason stands in", gate: action, actor: root,
			r: jobs.Resolution{Action: jobs.ActComplete, BreakGlass: &jobs.BreakGlass{Reason: "on-site tech confirmed by phone"}}, outcome: jobs.OutcomeSuccessful},
		{name: "non-admin refused with a hint", gate: approval, actor: carol,
			r: jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "me"}}, code: jobs.EFORBIDDEN, contains: "only admins may break glass"},
		{name: "reason required", gate: approval, actor: root,
			r: jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "  "}}, code: jobs.EINVALID, contains: "needs a reason"},
		{name: "turned off", opts: jobs.Options{DisableBreakGlass: true}, gate: approval, actor: root,
			r: jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "x"}}, code: jobs.EFORBIDDEN, contains: "turned off"},
		{name: "wrong kind still refused", gate: action, actor: root,
			r: jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "x"}}, code: jobs.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, db := newServiceWith(t, tt.opts)
			createWithGate(t, svc, "bg-1", tt.gate)
			before, err := svc.GetJob(ctx, "bg-1")
			require.NoError(t, err)
			job, g, err := svc.Resolve(ctx, tt.actor, jobs.ViaCLI, "bg-1", tt.r)
			if tt.code != "" {
				require.Equal(t, tt.code, jobs.ErrorCode(err), "%v", err)
				require.Contains(t, jobs.ErrorMessage(err), tt.contains)
				if tt.code == jobs.EFORBIDDEN {
					require.NotEmpty(t, jobs.ErrorHint(err))
				}
				after, err := svc.GetJob(ctx, "bg-1")
				require.NoError(t, err)
				require.Equal(t, before.Version, after.Version, "a refusal changes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.outcome, *g.Outcome)
			require.NotNil(t, g.BreakGlass)
			require.Equal(t, "root", g.BreakGlass.By)
			require.Equal(t, tt.r.BreakGlass.Reason, g.BreakGlass.Reason)
			require.Equal(t, jobs.ViaCLI, g.BreakGlass.Via)
			require.Equal(t, "⚠️ Break-glass by @root: "+tt.r.BreakGlass.Reason, g.BreakGlassText())
			require.Equal(t, jobs.StatusInProgress, job.Status)
			log, err := svc.Store().Log(ctx, "bg-1", 0, 100)
			require.NoError(t, err)
			found := false
			for _, e := range log {
				if e.Fields["breakGlass"] == tt.r.BreakGlass.Reason {
					found = true
					require.Contains(t, e.Text, "break-glass by root")
				}
			}
			require.True(t, found, "the override is in the job log")
			pending, _, err := db.Outbox(ctx, time.Now().Add(time.Hour), 100)
			require.NoError(t, err)
			var told []string
			for _, n := range pending {
				if n.Event == jobs.NotifyBreakGlass {
					told = append(told, string(n.Channel.Type))
				}
			}
			if len(tt.gate.Channels) > 0 {
				require.Equal(t, []string{"email"}, told, "the gate's channels are told")
			}
		})
	}
}

func TestService_RefusalsTeach(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "h-1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release"})
	_, _, err := svc.Resolve(ctx, ci, jobs.ViaCLI, "h-1", jobs.Resolution{Action: jobs.ActApprove})
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
	require.Contains(t, jobs.ErrorHint(err), "--allow-self-approval")

	createWithGate(t, svc, "h-2", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap", Assignees: []string{"ops"}})
	_, _, err = svc.Resolve(ctx, carol, jobs.ViaCLI, "h-2", jobs.Resolution{Action: jobs.ActComplete})
	require.Contains(t, jobs.ErrorHint(err), "cla reassign JOB --assignee carol")
	require.NotContains(t, jobs.ErrorHint(err), "break-glass", "only admins are offered the override")
	_, _, err = svc.Resolve(ctx, jobs.Identity{Name: "boss", Admin: true}, jobs.ViaCLI, "h-2", jobs.Resolution{Action: jobs.ActComplete})
	require.Contains(t, jobs.ErrorHint(err), "--break-glass --reason")
	_, _, err = svc.Reassign(ctx, carol, jobs.ViaCLI, "h-2", []string{"carol"})
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
	require.Contains(t, jobs.ErrorHint(err), "ask one of its assignees (ops)")
}

// knownOnly is an AssigneeChecker that knows a fixed set.
type knownOnly map[string]bool

func (k knownOnly) KnownAssignee(_ context.Context, a string) (bool, error) { return k[a], nil }

func TestService_UnknownAssignees(t *testing.T) {
	ctx := context.Background()
	svc, _ := newServiceWith(t, jobs.Options{Assignees: knownOnly{"ops": true, "lead": true}})
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "u-1", Name: "x"})
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  jobs.GateConfig
		want string
	}{
		{"unknown assignee", jobs.GateConfig{Kind: jobs.KindAction, Name: "a", Assignees: []string{"ops", "nobody-team"}}, `assignees: "nobody-team" matches no identity`},
		{"unknown escalation", jobs.GateConfig{Kind: jobs.KindAction, Name: "a", Assignees: []string{"ops"},
			Escalation: []jobs.Escalation{{After: "1h", Assignees: []string{"ghost"}}}}, `escalation[0].assignees: "ghost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "u-1", tt.cfg)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			require.Contains(t, err.Error(), tt.want)
			require.Contains(t, jobs.ErrorHint(err), "allowUnknownAssignees")
			job, err := svc.GetJob(ctx, "u-1")
			require.NoError(t, err)
			require.Empty(t, job.Gates, "nothing opened")
		})
	}
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "u-2", Name: "x",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "a", Assignees: []string{"nobody-team"}}})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "dispatch checks too")
	_, err = svc.GetJob(ctx, "u-2")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "and creates nothing")

	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "u-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "a",
		Assignees: []string{"nobody-team"}, AllowUnknownAssignees: true})
	require.NoError(t, err, "the gate flag keeps today's behaviour")
	_, _, err = svc.Reassign(ctx, ci, jobs.ViaAPI, "u-1", []string{"ghost"})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "reassign checks too")
}

func TestDirectory_Knows(t *testing.T) {
	d := jobs.NewDirectory([]jobs.Identity{{Name: "alice", Email: "Alice@Example.com", Slack: "U0ALICE", Groups: []string{"ops", "@sre"}}})
	for _, a := range []string{"alice", "@alice", "alice@example.com", "U0ALICE", "slack:U0ALICE", "ops", "sre", "@sre"} {
		require.True(t, d.Knows(a), a)
	}
	for _, a := range []string{"bob", "dev", "U0BOB", ""} {
		require.False(t, d.Knows(a), a)
	}
}

// TestService_BreakGlassRespectsFreeze: break-glass overrides who may act,
// not a freeze that blocks completion.
func TestService_BreakGlassRespectsFreeze(t *testing.T) {
	ctx := context.Background()
	svc, _ := newServiceWith(t, jobs.Options{})
	createWithGate(t, svc, "bf-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}})
	until := time.Now().Add(time.Hour)
	_, err := svc.CreateFreeze(ctx, root, jobs.NewFreeze{Reason: "holiday", Until: &until, BlockCompletion: true})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, root, jobs.ViaCLI, "bf-1", jobs.Resolution{Action: jobs.ActComplete,
		BreakGlass: &jobs.BreakGlass{Reason: "urgent"}})
	require.Equal(t, jobs.EFROZEN, jobs.ErrorCode(err), "%v", err)
	job, err := svc.GetJob(ctx, "bf-1")
	require.NoError(t, err)
	require.Nil(t, job.LastGate().BreakGlass)
	require.Equal(t, jobs.GateOpen, job.LastGate().State)
}

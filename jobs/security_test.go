package jobs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestService_RequesterOnlyByAdmins: issue 17 item 14. A non-admin cannot
// name someone else as requester (and so dodge self-approval or gain their
// cancel right); the requester defaults to the caller.
func TestService_RequesterOnlyByAdmins(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	cases := []struct {
		name      string
		actor     jobs.Identity
		requester string
		want      string // error code; "" = created
		stored    string
	}{
		{"defaults to caller", carol, "", "", "carol"},
		{"own name", carol, "carol", "", "carol"},
		{"someone else", carol, "alice", jobs.EFORBIDDEN, ""},
		{"admin sets it", jobs.Identity{Name: "root", Admin: true}, "alice", "", "alice"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "req-" + string(rune('a'+i))
			j, err := svc.CreateJob(ctx, c.actor, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n", Requester: c.requester})
			if c.want != "" {
				require.Equal(t, c.want, jobs.ErrorCode(err))
				_, err = svc.GetJob(ctx, id)
				require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.stored, j.Requester)
		})
	}
}

// TestService_CancelNeedsStake: issue 17 item 14. Cancelling takes the
// requester, an assignee of the open gate or an admin.
func TestService_CancelNeedsStake(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	cases := []struct {
		name  string
		actor jobs.Identity
		gate  []string // assignees of an open gate; nil = no gate
		ok    bool
	}{
		{"stranger, no gate", carol, nil, false},
		{"stranger, assigned gate", carol, []string{"ops"}, false},
		{"stranger, unassigned gate", carol, []string{}, false},
		{"requester", ci, nil, true},
		{"assignee", alice, []string{"ops"}, true},
		{"admin", jobs.Identity{Name: "root", Admin: true}, nil, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "cancel-" + string(rune('a'+i))
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
			require.NoError(t, err)
			if c.gate != nil {
				_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Assignees: c.gate})
				require.NoError(t, err)
			}
			j, err := svc.Progress(ctx, c.actor, jobs.ViaAPI, id, jobs.StatusCancelled, "stop")
			if !c.ok {
				require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
				j, err = svc.GetJob(ctx, id)
				require.NoError(t, err)
				require.NotEqual(t, jobs.StatusCancelled, j.Status)
				return
			}
			require.NoError(t, err)
			require.Equal(t, jobs.StatusCancelled, j.Status)
		})
	}
}

// TestService_RunStateOnlyByRequester: issue 17 item 1 (server side). Only
// the run's own identity may write the run-state annotation.
func TestService_RunStateOnlyByRequester(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "run-1", Name: "deploy"})
	require.NoError(t, err)
	forged := jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: []byte(`{"format":1}`)}
	_, err = svc.Annotate(ctx, carol, jobs.ViaAPI, "run-1", forged)
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
	_, err = svc.Annotate(ctx, jobs.Identity{Name: "root", Admin: true}, jobs.ViaAPI, "run-1", forged)
	require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "not even an admin writes another identity's run state")
	j, err := svc.GetJob(ctx, "run-1")
	require.NoError(t, err)
	require.Empty(t, j.Annotations)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "run-1", forged)
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, carol, jobs.ViaAPI, "run-1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "notes.txt", Content: []byte("x")})
	require.NoError(t, err, "other file names stay open to everyone")
}

// TestService_GateLimits: issue 17 items 4 and 5. A reminder flood or a
// gate fanning out to hundreds of targets is refused when it is opened.
func TestService_GateLimits(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	hooks := func(n int) []jobs.NotifyChannel {
		var chs []jobs.NotifyChannel
		for i := range n {
			chs = append(chs, jobs.NotifyChannel{Type: "webhook", URL: fmt.Sprintf("https://hooks.example.com/%d", i)})
		}
		return chs
	}
	// A 200,000-item checklist (a 1 MiB request) made each job page view
	// 95 MB of HTML (4.4 s), each tick 73 ms of the store's writer.
	items := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "x"
		}
		return out
	}
	tiers := func(n int) []jobs.Escalation {
		var es []jobs.Escalation
		for range n {
			es = append(es, jobs.Escalation{After: "1h", Assignees: []string{"bob"}})
		}
		return es
	}
	cases := []struct {
		name string
		cfg  jobs.GateConfig
		want string
	}{
		{"reminder every nanosecond", jobs.GateConfig{Reminder: &jobs.Reminder{Interval: "1ns"}}, "shorter than limits.minReminderInterval (1m0s)"},
		{"reminder every 59s", jobs.GateConfig{Reminder: &jobs.Reminder{Interval: "59s"}}, "limits.minReminderInterval"},
		{"too many reminders", jobs.GateConfig{Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: 101}}, "exceeds limits.maxReminders (100)"},
		{"too many tiers", jobs.GateConfig{Escalation: tiers(11)}, "11 escalation tiers exceed limits.maxEscalations (10)"},
		{"160 hanging webhooks", jobs.GateConfig{Channels: hooks(160)}, "160 notification channels exceed limits.maxChannels (20 per gate)"},
		{"a 200,000-item checklist", jobs.GateConfig{Checklist: items(200000)}, "200000 checklist items exceed limits.maxChecklistItems (300)"},
		{"one item too many", jobs.GateConfig{Checklist: items(jobs.DefaultMaxChecklistItems + 1)}, "301 checklist items"},
		{"channels in tiers count", jobs.GateConfig{Channels: hooks(15), Escalation: []jobs.Escalation{{After: "1h", Channels: hooks(6)}}}, "21 notification channels"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("lim-%d", i)
			_, err := svc.CreateJob(ctx, jobs.Identity{Name: "root", Admin: true}, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
			require.NoError(t, err)
			c.cfg.Kind, c.cfg.Name = jobs.KindAction, "g"
			_, _, err = svc.OpenGate(ctx, jobs.Identity{Name: "root", Admin: true}, jobs.ViaAPI, id, c.cfg)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			require.ErrorContains(t, err, c.want)
			j, err := svc.GetJob(ctx, id)
			require.NoError(t, err)
			require.Empty(t, j.Gates)
		})
	}
	t.Run("no reminder is unbounded", func(t *testing.T) {
		_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "lim-ok", Name: "n"})
		require.NoError(t, err)
		_, g, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "lim-ok", jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Reminder: &jobs.Reminder{Interval: "1m"}})
		require.NoError(t, err)
		require.Zero(t, g.Reminder.MaxReminders, "maxReminders omitted is 0: no reminders (ctrlplane's RFC)")
		_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "lim-items", Name: "n",
			Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Checklist: items(jobs.DefaultMaxChecklistItems)}})
		require.NoError(t, err, "the limit itself is allowed")
		require.Nil(t, g.NextReminderAt)
		// A jobAgentConfig dispatch passes the same limits as a gate.
		_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "lim-agent", JobAgentConfig: &jobs.GateConfig{Name: "g",
			Reminder: &jobs.Reminder{Interval: "1m", MaxReminders: jobs.DefaultMaxReminders + 1}}})
		require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
		require.ErrorContains(t, err, "exceeds limits.maxReminders")
	})
}

// TestService_GatesPerMinute: issue 17 item 5, per identity, admins exempt.
func TestService_GatesPerMinute(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	svc, _ := newServiceWith(t, jobs.Options{Now: clock.Now, Limits: jobs.Limits{GatesPerMinute: 3}})
	open := func(actor jobs.Identity, id string) error {
		_, err := svc.CreateJob(ctx, actor, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
		require.NoError(t, err)
		_, _, err = svc.OpenGate(ctx, actor, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindPause, Name: "g"})
		return err
	}
	for i := range 3 {
		require.NoError(t, open(carol, fmt.Sprintf("rate-c%d", i)))
	}
	err := open(carol, "rate-c3")
	require.Equal(t, jobs.ERATELIMIT, jobs.ErrorCode(err))
	require.ErrorContains(t, err, "limits.gatesPerMinute is 3")
	_, err = svc.CreateJob(ctx, carol, jobs.ViaAPI, jobs.NewJob{ID: "rate-d", Name: "n", Gate: &jobs.GateConfig{Kind: jobs.KindPause, Name: "g"}})
	require.Equal(t, jobs.ERATELIMIT, jobs.ErrorCode(err), "a dispatch opens a gate too")
	require.NoError(t, open(alice, "rate-a0"), "other identities have their own budget")
	for i := range 5 {
		require.NoError(t, open(root, fmt.Sprintf("rate-r%d", i)), "admins are exempt")
	}
	clock.Advance(61 * time.Second)
	_, _, err = svc.OpenGate(ctx, carol, jobs.ViaAPI, "rate-c3", jobs.GateConfig{Kind: jobs.KindPause, Name: "g"})
	require.NoError(t, err, "the window moved on")
}

// TestService_UnassignedGates: issue 17 item 9. With RestrictUnassigned
// (what `cla serve` sets by default) a gate without assignees is resolved
// only by admins and identities with the resolveUnassigned right; default
// assignees fill gates opened without any.
func TestService_UnassignedGates(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{RestrictUnassigned: true})
	cases := []struct {
		name  string
		actor jobs.Identity
		kind  jobs.GateKind
		ok    bool
	}{
		{"stranger skips a trap", carol, jobs.KindTrap, false},
		{"stranger resumes a pause", carol, jobs.KindPause, false},
		{"stranger completes an action", carol, jobs.KindAction, false},
		{"right holder", jobs.Identity{Name: "dave", ResolveUnassigned: true}, jobs.KindTrap, true},
		{"admin", jobs.Identity{Name: "root", Admin: true}, jobs.KindTrap, true},
	}
	act := map[jobs.GateKind]jobs.Resolution{jobs.KindTrap: {Action: jobs.ActSkip}, jobs.KindPause: {Action: jobs.ActResume},
		jobs.KindAction: {Action: jobs.ActComplete}}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("un-%d", i)
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
			require.NoError(t, err)
			_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: c.kind, Name: "g"})
			require.NoError(t, err)
			_, g, err := svc.Resolve(ctx, c.actor, jobs.ViaAPI, id, act[c.kind])
			if !c.ok {
				require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
				j, err := svc.GetJob(ctx, id)
				require.NoError(t, err)
				require.NotNil(t, j.OpenGate(), "the gate stays open")
				return
			}
			require.NoError(t, err)
			require.Equal(t, jobs.GateClosed, g.State)
		})
	}
	t.Run("default assignees", func(t *testing.T) {
		svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{RestrictUnassigned: true, DefaultAssignees: []string{"ops"}})
		_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "un-def", Name: "n"})
		require.NoError(t, err)
		_, g, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "un-def", jobs.GateConfig{Kind: jobs.KindTrap, Name: "g"})
		require.NoError(t, err)
		require.Equal(t, []string{"ops"}, g.Assignees)
		_, _, err = svc.Resolve(ctx, carol, jobs.ViaAPI, "un-def", jobs.Resolution{Action: jobs.ActSkip})
		require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
		_, _, err = svc.Resolve(ctx, alice, jobs.ViaAPI, "un-def", jobs.Resolution{Action: jobs.ActSkip})
		require.NoError(t, err)
	})
}

// countingChecker knows every assignee and counts the look-ups, each of
// which costs cla serve a Slack call (users.info, usergroups.list).
type countingChecker struct {
	mu sync.Mutex
	n  int
}

func (c *countingChecker) KnownAssignee(context.Context, string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return true, nil
}

func (c *countingChecker) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestService_AssigneeLimit: one request naming thousands of Slack users
// as assignees must not turn into thousands of Slack look-ups (paced at
// Slack's tier, they held the request for hours and starved every other
// caller of the same Slack method), nor into a gate whose announcement does
// as many. limits.maxAssignees refuses it before anything is looked up.
func TestService_AssigneeLimit(t *testing.T) {
	ctx := context.Background()
	checker := &countingChecker{}
	svc, _ := newServiceWith(t, jobs.Options{Assignees: checker})
	users := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("U%08d", i)
		}
		return out
	}
	_, err := svc.CreateJob(ctx, root, jobs.ViaAPI, jobs.NewJob{ID: "many", Name: "n"})
	require.NoError(t, err)
	cases := []struct {
		name string
		cfg  jobs.GateConfig
		want string
	}{
		{"ten thousand users", jobs.GateConfig{Assignees: users(10000)}, "10000 assignees exceed limits.maxAssignees (100 per gate"},
		{"tiers count", jobs.GateConfig{Assignees: users(60), Escalation: []jobs.Escalation{{After: "1h", Assignees: users(41)}}}, "101 assignees"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Kind, c.cfg.Name = jobs.KindAction, "g"
			_, _, err := svc.OpenGate(ctx, root, jobs.ViaAPI, "many", c.cfg)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			require.ErrorContains(t, err, c.want)
			_, err = svc.CreateJob(ctx, root, jobs.ViaAPI, jobs.NewJob{ID: "many-dispatch", Gate: &c.cfg})
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "a dispatch opens a gate too")
			require.ErrorContains(t, err, c.want)
			require.Zero(t, checker.calls(), "refused before any look-up")
		})
	}
	j, err := svc.GetJob(ctx, "many")
	require.NoError(t, err)
	require.Empty(t, j.Gates)

	_, _, err = svc.OpenGate(ctx, root, jobs.ViaAPI, "many", jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Assignees: users(jobs.DefaultMaxAssignees)})
	require.NoError(t, err, "the limit itself is allowed")
	require.Equal(t, jobs.DefaultMaxAssignees, checker.calls())
	_, _, err = svc.Reassign(ctx, root, jobs.ViaAPI, "many", users(jobs.DefaultMaxAssignees+1))
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err), "reassign is bounded too")
	require.ErrorContains(t, err, "limits.maxAssignees")
	require.Equal(t, jobs.DefaultMaxAssignees, checker.calls(), "and looks nobody up")

	small, _ := newServiceWith(t, jobs.Options{Limits: jobs.Limits{MaxAssignees: 2}})
	_, err = small.CreateJob(ctx, root, jobs.ViaAPI, jobs.NewJob{ID: "small", Name: "n",
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Assignees: []string{"a", "b", "c"}}})
	require.ErrorContains(t, err, "3 assignees exceed limits.maxAssignees (2 per gate")
}

// TestService_SelfApprovalByAnyOfTheRequestersNames: an admin (a
// pipeline dispatching on someone's behalf) may name the requester by
// email or Slack user id, as ctrlplane knows them; that person may still
// not approve the job under their configured name, whatever the case of
// the email. Someone else still may.
func TestService_SelfApprovalByAnyOfTheRequestersNames(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	dana := jobs.Identity{Name: "dana", Email: "dana@example.com", Slack: "U0DANA", Groups: []string{"ops"}}
	for i, requester := range []string{"dana", "Dana@Example.COM", "@dana@example.com", "U0DANA", "slack:U0DANA", " dana "} {
		t.Run(requester, func(t *testing.T) {
			id := fmt.Sprintf("self-%d", i)
			_, err := svc.CreateJob(ctx, root, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n", Requester: requester})
			require.NoError(t, err)
			_, _, err = svc.OpenGate(ctx, root, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship",
				Assignees: []string{"ops"}})
			require.NoError(t, err)
			_, _, err = svc.Resolve(ctx, dana, jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActApprove})
			require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "dana approved her own job (requester %q)", requester)
			j, err := svc.GetJob(ctx, id)
			require.NoError(t, err)
			require.Empty(t, j.OpenGate().Approvals)
			_, _, err = svc.Resolve(ctx, bob, jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActApprove})
			require.NoError(t, err, "someone else approves")
		})
	}
}

// TestService_NoResolutionPastTheDeadline: a gate whose timeout has passed
// is timed out, whether or not the timer has fired yet (the server was
// down, or its timers are catching up after a restart): an approval, a
// completion or a break-glass that arrives after the deadline is refused
// and changes nothing, and the timer then times the gate out. Just before
// the deadline, the approval stands.
func TestService_NoResolutionPastTheDeadline(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	set := clock.Set
	svc, _ := newServiceWith(t, jobs.Options{Now: clock.Now})
	start := clock.Now()

	cases := []struct {
		name string
		kind jobs.GateKind
		res  jobs.Resolution
	}{
		{"approve", jobs.KindApproval, jobs.Resolution{Action: jobs.ActApprove}},
		{"complete", jobs.KindAction, jobs.Resolution{Action: jobs.ActComplete}},
		{"break-glass", jobs.KindApproval, jobs.Resolution{Action: jobs.ActApprove, BreakGlass: &jobs.BreakGlass{Reason: "urgent"}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set(start)
			id := fmt.Sprintf("late-%d", i)
			_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "n"})
			require.NoError(t, err)
			_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: c.kind, Name: "Ship",
				Assignees: []string{"ops", "root"}, Timeout: "1h"})
			require.NoError(t, err)
			actor := bob
			if c.res.BreakGlass != nil {
				actor = root
			}
			set(start.Add(time.Hour)) // the deadline itself: timed out, timer fired or not
			_, _, err = svc.Resolve(ctx, actor, jobs.ViaAPI, id, c.res)
			require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "resolved past the deadline: %v", err)
			require.ErrorContains(t, err, "timed out")
			j, err := svc.GetJob(ctx, id)
			require.NoError(t, err)
			require.Equal(t, jobs.GateOpen, j.Gate("g1").State)
			require.Empty(t, j.Gate("g1").Approvals)

			require.NoError(t, svc.FireTimers(ctx, id))
			j, err = svc.GetJob(ctx, id)
			require.NoError(t, err)
			require.Equal(t, jobs.OutcomeTimedOut, *j.Gate("g1").Outcome)
		})
	}
	t.Run("just before the deadline", func(t *testing.T) {
		set(start)
		_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "late-ok", Name: "n"})
		require.NoError(t, err)
		_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "late-ok", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship",
			Assignees: []string{"ops"}, Timeout: "1h"})
		require.NoError(t, err)
		set(start.Add(time.Hour - time.Second))
		_, _, err = svc.Resolve(ctx, bob, jobs.ViaAPI, "late-ok", jobs.Resolution{Action: jobs.ActApprove})
		require.NoError(t, err)
	})
}

// TestService_ListJobsPageBytes: a page of the job list is capped by size
// as well as count, as log pages are: 500 jobs of 1 MiB context each made
// one GET /v1/jobs?limit=500 read, hold and encode 500 MiB. The next
// cursor carries on where the page stopped, and a job larger than the cap
// is still listed.
func TestService_ListJobsPageBytes(t *testing.T) {
	ctx := context.Background()
	svc, _ := newServiceWith(t, jobs.Options{Quotas: jobs.Quotas{JobPageBytes: 1 << 20}})
	big := strings.Repeat("x", 300<<10)
	const n = 12
	for i := range n {
		_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: fmt.Sprintf("big-%02d", i), Name: "n",
			Context: map[string]any{"blob": map[string]any{"data": []any{big}}}})
		require.NoError(t, err)
	}
	var seen []string
	q := jobs.ListQuery{Limit: 500}
	for pages := 0; ; pages++ {
		require.Less(t, pages, n+1, "pages end")
		page, err := svc.ListJobs(ctx, q)
		require.NoError(t, err)
		require.NotEmpty(t, page.Jobs, "every page holds at least one job")
		require.LessOrEqual(t, len(page.Jobs), 4, "about 1 MiB of 300 KiB jobs, not all %d", n)
		for _, j := range page.Jobs {
			seen = append(seen, j.ID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("big-%02d", n-1-i)
	}
	require.Equal(t, want, seen, "every job once, newest first")

	huge := strings.Repeat("y", 2<<20)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "huge", Name: "n", Context: map[string]any{"blob": huge}})
	require.NoError(t, err)
	page, err := svc.ListJobs(ctx, jobs.ListQuery{Limit: 500})
	require.NoError(t, err)
	require.LessOrEqual(t, len(page.Jobs), 4, "a job over the cap ends the page at its chunk")
	require.Equal(t, "huge", page.Jobs[0].ID)
	require.NotEmpty(t, page.Next)
}

// TestService_TicksKeepTheLatestPerItem: every tick was appended to the
// gate for good, so ticking one item back and forth grew the job record
// (about 100 bytes a tick, re-encoded in the store's writer on every later
// change) and made Gate.Checked scan them all, without any bound. Only the
// latest tick of each item decides anything (its state, who ticked it);
// the job log keeps the history.
func TestService_TicksKeepTheLatestPerItem(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	createWithGate(t, svc, "ticks", jobs.GateConfig{Kind: jobs.KindAction, Name: "g", Checklist: []string{"a", "b"}})
	for i := range 200 {
		_, _, err := svc.ToggleChecklist(ctx, ci, jobs.ViaAPI, "ticks", i%2, i%4 < 2)
		require.NoError(t, err)
	}
	_, _, err := svc.ToggleChecklist(ctx, alice, jobs.ViaCLI, "ticks", 1, true)
	require.NoError(t, err)
	job, err := svc.GetJob(ctx, "ticks")
	require.NoError(t, err)
	g := job.OpenGate()
	require.LessOrEqual(t, len(g.Ticks), len(g.Checklist), "one tick per item")
	require.False(t, g.Checked(0), "the 199th change unticked item a")
	require.True(t, g.Checked(1))
	last := g.Ticks[len(g.Ticks)-1]
	require.Equal(t, jobs.Tick{Item: 1, Checked: true, By: "alice", Via: jobs.ViaCLI, At: last.At}, last)
	page, _, err := svc.LogPage(ctx, "ticks", 0, 1000)
	require.NoError(t, err)
	n := 0
	for _, e := range page {
		if strings.Contains(e.Text, "checklist item") {
			n++
		}
	}
	require.Equal(t, 201, n, "the log keeps every tick")
}

package jobs_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // Europe/Madrid without relying on the host's zoneinfo

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// These tests run the real scheduler (Service.RunTimers) over a real bbolt
// file inside a synctest bubble: time.Sleep moves the fake clock, and a
// "restart" closes the store and starts a new Service on the same file.
// No outbox worker runs, so every notification stays in the store to be
// counted.

var (
	tmOps      = jobs.Identity{Name: "olga", Groups: []string{"ops"}}
	tmLead     = jobs.Identity{Name: "lena", Groups: []string{"lead"}}
	tmStranger = jobs.Identity{Name: "mallory"}
	tmNewbie   = jobs.Identity{Name: "carl", Groups: []string{"carol-team"}}
)

const tmHook = "http://hook.example/cla"

// timerServer is one life of the server: a store and the scheduler.
type timerServer struct {
	db     *store.DB
	svc    *jobs.Service
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func bootTimers(t *testing.T, path string) *timerServer {
	t.Helper()
	db, err := store.Open(path)
	require.NoError(t, err)
	s := &timerServer{db: db, svc: jobs.NewService(db, jobs.NewBroker(), jobs.Options{}), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_ = s.svc.RunTimers(ctx, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { s.shutdown(t) })
	quiesce()
	return s
}

func (s *timerServer) shutdown(t *testing.T) {
	s.once.Do(func() {
		s.cancel()
		<-s.done
		require.NoError(t, s.db.Close())
	})
}

// quiesce lets the scheduler and the store's group commit finish.
func quiesce() {
	time.Sleep(50 * time.Millisecond)
	synctest.Wait()
}

// sleepUntil moves the fake clock to at and lets everything due run.
func sleepUntil(at time.Time) {
	time.Sleep(time.Until(at))
	synctest.Wait()
}

// notes lists the pending notification ids of a job, as "event/cause/type".
func (s *timerServer) notes(t *testing.T, jobID string) []jobs.Notification {
	all, _, err := s.db.Outbox(context.Background(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 100000)
	require.NoError(t, err)
	var out []jobs.Notification
	for _, n := range all {
		if n.JobID == jobID {
			out = append(out, n)
		}
	}
	return out
}

func (s *timerServer) ofEvent(t *testing.T, jobID, event string) []jobs.Notification {
	var out []jobs.Notification
	for _, n := range s.notes(t, jobID) {
		if n.Event == event {
			out = append(out, n)
		}
	}
	return out
}

// audit lists the job's audit lines that contain substr.
func (s *timerServer) audit(t *testing.T, jobID, substr string) []jobs.LogEntry {
	entries, err := s.svc.Log(context.Background(), jobID, 0, 1000)
	require.NoError(t, err)
	var out []jobs.LogEntry
	for _, e := range entries {
		if e.Kind == jobs.LogAudit && strings.Contains(e.Text, substr) {
			out = append(out, e)
		}
	}
	return out
}

func (s *timerServer) gate(t *testing.T, jobID string) *jobs.Gate {
	job, err := s.svc.GetJob(context.Background(), jobID)
	require.NoError(t, err)
	return job.LastGate()
}

func createdAts(ns []jobs.Notification) []time.Time {
	out := make([]time.Time, len(ns))
	for i, n := range ns {
		out[i] = n.CreatedAt.UTC()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func TestRunTimers_RemindersAndTimeoutAcrossRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		s := bootTimers(t, path)
		job, err := s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "tm-1", Name: "deploy", Gate: &jobs.GateConfig{
			Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"}, Timeout: "PT10H",
			Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: 5}, Channels: []jobs.NotifyChannel{{Type: "webhook", URL: tmHook}}}})
		require.NoError(t, err)
		opened := job.Gates[0].OpenedAt
		at := func(d time.Duration) time.Time { return opened.Add(d).UTC() }

		sleepUntil(at(90 * time.Minute))
		require.Equal(t, []time.Time{at(time.Hour)}, createdAts(s.ofEvent(t, "tm-1", jobs.NotifyReminder)),
			"first reminder fired at its time")

		// Down from 1h30 to 7h: the reminders of 2h, 3h, 4h, 5h and 6h are missed.
		s.shutdown(t)
		sleepUntil(at(7 * time.Hour))
		s = bootTimers(t, path)
		require.Equal(t, []time.Time{at(time.Hour), at(7 * time.Hour)}, createdAts(s.ofEvent(t, "tm-1", jobs.NotifyReminder)),
			"five missed reminders fire once, at start")
		g := s.gate(t, "tm-1")
		require.Equal(t, 2, g.RemindersSent)
		require.Equal(t, at(8*time.Hour), g.NextReminderAt.UTC(), "the series goes on from the start")
		require.Len(t, s.audit(t, "tm-1", "reminder"), 2)

		// Reminders at 8h and 9h; the 10h deadline wins over the 10h reminder.
		sleepUntil(at(11 * time.Hour))
		require.Equal(t, []time.Time{at(time.Hour), at(7 * time.Hour), at(8 * time.Hour), at(9 * time.Hour)},
			createdAts(s.ofEvent(t, "tm-1", jobs.NotifyReminder)))
		g = s.gate(t, "tm-1")
		require.Equal(t, jobs.GateClosed, g.State)
		require.Equal(t, jobs.OutcomeTimedOut, *g.Outcome)
		require.Equal(t, jobs.ViaTimeout, *g.ResolvedVia)
		require.Equal(t, at(10*time.Hour), g.ResolvedAt.UTC(), "timed out at the deadline, not later")
		got, err := s.svc.GetJob(ctx, "tm-1")
		require.NoError(t, err)
		require.Equal(t, jobs.StatusFailure, got.Status, "a dispatch gate that times out fails the job")
		require.Len(t, s.audit(t, "tm-1", "timed out"), 1)
	})
}

func TestRunTimers_DeadlinePassedWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		s := bootTimers(t, path)
		_, err := s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "tm-2", Name: "deploy"})
		require.NoError(t, err)
		_, g, err := s.svc.OpenGate(ctx, ci, jobs.ViaAPI, "tm-2", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Prod",
			Timeout: "2h", ContinueOnFailure: true, Reminder: &jobs.Reminder{Interval: "30m", MaxReminders: 10},
			Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: "C1"}}})
		require.NoError(t, err)
		s.shutdown(t)

		sleepUntil(g.OpenedAt.Add(5 * time.Hour))
		for range 2 { // two restarts: the timeout fires once
			s = bootTimers(t, path)
			s.shutdown(t)
		}
		s = bootTimers(t, path)
		closed := s.gate(t, "tm-2")
		require.Equal(t, jobs.OutcomeTimedOut, *closed.Outcome)
		require.Equal(t, g.OpenedAt.Add(5*time.Hour).UTC(), closed.ResolvedAt.UTC(), "fired at start")
		require.Empty(t, s.ofEvent(t, "tm-2", jobs.NotifyReminder), "the deadline wins over missed reminders")
		require.Len(t, s.ofEvent(t, "tm-2", jobs.NotifyGateResolved), 1)
		require.Len(t, s.audit(t, "tm-2", "timed out"), 1)
		job, err := s.svc.GetJob(ctx, "tm-2")
		require.NoError(t, err)
		require.Equal(t, jobs.StatusInProgress, job.Status, "continueOnFailure: the pipeline goes on")
	})
}

func TestRunTimers_CronReminderInZone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := bootTimers(t, filepath.Join(t.TempDir(), "cla.db"))
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "Office hours", Channels: []jobs.NotifyChannel{{Type: "webhook", URL: tmHook}},
			Reminder: &jobs.Reminder{Cron: "0 9-17 * * MON-FRI", Timezone: "Europe/Madrid", MaxReminders: 3}}

		// Winter (CET, UTC+1), opened on Saturday 2000-01-01 00:00 UTC.
		_, winter, err := s.svc.OpenGate(ctx, ci, jobs.ViaAPI, mustCreate(t, s.svc, "tm-3w"), cfg)
		require.NoError(t, err)
		require.Equal(t, time.Date(2000, 1, 3, 8, 0, 0, 0, time.UTC), winter.NextReminderAt.UTC(), "Monday 09:00 in Madrid")
		_, err = s.svc.Progress(ctx, ci, jobs.ViaAPI, "tm-3w", jobs.StatusCancelled, "")
		require.NoError(t, err)

		// Summer (CEST, UTC+2), opened on Friday 2000-07-07 at 16:30 in Madrid.
		sleepUntil(time.Date(2000, 7, 7, 14, 30, 0, 0, time.UTC))
		_, g, err := s.svc.OpenGate(ctx, ci, jobs.ViaAPI, mustCreate(t, s.svc, "tm-3s"), cfg)
		require.NoError(t, err)
		require.Equal(t, time.Date(2000, 7, 7, 15, 0, 0, 0, time.UTC), g.NextReminderAt.UTC(), "Friday 17:00 in Madrid")

		sleepUntil(time.Date(2000, 7, 12, 0, 0, 0, 0, time.UTC))
		require.Equal(t, []time.Time{
			time.Date(2000, 7, 7, 15, 0, 0, 0, time.UTC), // Fri 17:00
			time.Date(2000, 7, 10, 7, 0, 0, 0, time.UTC), // Mon 09:00: the weekend is skipped
			time.Date(2000, 7, 10, 8, 0, 0, 0, time.UTC), // Mon 10:00, then maxReminders is reached
		}, createdAts(s.ofEvent(t, "tm-3s", jobs.NotifyReminder)))
		require.Nil(t, s.gate(t, "tm-3s").NextReminderAt, "no reminder after maxReminders")
		require.Empty(t, s.ofEvent(t, "tm-3w", jobs.NotifyReminder), "a cancelled gate never reminds")
	})
}

func mustCreate(t *testing.T, svc *jobs.Service, id string) string {
	_, err := svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "deploy " + id})
	require.NoError(t, err)
	return id
}

func TestRunTimers_EscalationTiers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		s := bootTimers(t, path)
		_, g, err := s.svc.OpenGate(ctx, ci, jobs.ViaAPI, mustCreate(t, s.svc, "tm-4"), jobs.GateConfig{
			Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops"},
			Channels: []jobs.NotifyChannel{{Type: "webhook", URL: tmHook}},
			Escalation: []jobs.Escalation{
				{After: "2h", Assignees: []string{"lead"}},
				{After: "PT4H", Assignees: []string{"director@example.com"},
					Channels: []jobs.NotifyChannel{{Type: "email", To: "director@example.com"}}},
			}})
		require.NoError(t, err)
		_, _, err = s.svc.Resolve(ctx, tmLead, jobs.ViaAPI, "tm-4", jobs.Resolution{Action: jobs.ActComplete})
		require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "lead is not an assignee before the escalation")

		sleepUntil(g.OpenedAt.Add(150 * time.Minute))
		tier1 := s.ofEvent(t, "tm-4", jobs.NotifyEscalated)
		require.Len(t, tier1, 1)
		require.Equal(t, []string{"lead"}, tier1[0].Assignees, "the added assignees are notified")
		require.Equal(t, tmHook, tier1[0].Channel.URL)
		require.Equal(t, []string{"ops", "lead"}, s.gate(t, "tm-4").AllAssignees())
		require.Len(t, s.audit(t, "tm-4", "(tier 1, after 2h) to lead"), 1)

		// Down across the 4h tier: it fires once at start, to its own channel too.
		s.shutdown(t)
		sleepUntil(g.OpenedAt.Add(6 * time.Hour))
		s = bootTimers(t, path)
		var tier2 []string
		for _, n := range s.ofEvent(t, "tm-4", jobs.NotifyEscalated) {
			if strings.Contains(n.ID, "/escalated/2/") {
				tier2 = append(tier2, string(n.Channel.Type)+":"+n.Channel.Target())
				require.Equal(t, []string{"director@example.com"}, n.Assignees)
			}
		}
		sort.Strings(tier2)
		require.Equal(t, []string{"email:director@example.com", "webhook:" + tmHook}, tier2)
		require.Len(t, s.audit(t, "tm-4", "escalated"), 2)
		require.Zero(t, s.gate(t, "tm-4").NextWake(), "no timers left")

		_, done, err := s.svc.Resolve(ctx, tmLead, jobs.ViaAPI, "tm-4", jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(t, err, "an escalated assignee may resolve")
		require.Equal(t, "lena", *done.ResolvedBy)
	})
}

func TestService_ReassignNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := bootTimers(t, filepath.Join(t.TempDir(), "cla.db"))
		id := mustCreate(t, s.svc, "tm-5")
		_, err := s.svc.BindChannel(ctx, ci, jobs.ViaSlack, id, jobs.Channel{ID: "C0JOB", Name: "job-tm-5"})
		require.NoError(t, err)
		_, g, err := s.svc.OpenGate(ctx, ci, jobs.ViaAPI, id, jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk",
			Assignees: []string{"ops"}, Reminder: &jobs.Reminder{Interval: "1h", MaxReminders: 3},
			Channels: []jobs.NotifyChannel{{Type: "webhook", URL: tmHook}}})
		require.NoError(t, err)

		for _, tc := range []struct {
			name      string
			actor     jobs.Identity
			assignees []string
			code      string
		}{
			{"stranger", tmStranger, []string{"carol-team"}, jobs.EFORBIDDEN},
			{"nobody", ci, nil, jobs.EINVALID},
		} {
			// (t.Run is not allowed inside a synctest bubble.)
			_, _, err := s.svc.Reassign(ctx, tc.actor, jobs.ViaAPI, id, tc.assignees)
			require.Equal(t, tc.code, jobs.ErrorCode(err), tc.name)
		}
		require.Empty(t, s.ofEvent(t, id, jobs.NotifyReassigned), "refused reassignments notify nobody")

		_, after, err := s.svc.Reassign(ctx, tmOps, jobs.ViaSlack, id, []string{"carol-team"})
		require.NoError(t, err, "an assignee may hand the gate over")
		require.Equal(t, []string{"carol-team"}, after.Assignees)
		var targets []string
		for _, n := range s.ofEvent(t, id, jobs.NotifyReassigned) {
			targets = append(targets, string(n.Channel.Type)+":"+n.Channel.Target())
			require.Equal(t, []string{"carol-team"}, n.Assignees, "the new assignees are notified")
		}
		sort.Strings(targets)
		require.Equal(t, []string{"slack:C0JOB", "webhook:" + tmHook}, targets,
			"the gate's channels and the bound Slack channel, whose message the bot updates")
		require.Len(t, s.audit(t, id, "reassigned action gate g1 (Swap disk) from ops to carol-team"), 1)

		_, _, err = s.svc.Resolve(ctx, tmOps, jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActComplete})
		require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err), "the old assignee lost the gate")

		sleepUntil(g.OpenedAt.Add(70 * time.Minute))
		reminders := s.ofEvent(t, id, jobs.NotifyReminder)
		require.Len(t, reminders, 2, "webhook and bound Slack channel")
		require.Equal(t, []string{"carol-team"}, reminders[0].Assignees, "reminders go to the new assignees")

		_, _, err = s.svc.Resolve(ctx, tmNewbie, jobs.ViaAPI, id, jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(t, err)
		_, _, err = s.svc.Reassign(ctx, ci, jobs.ViaAPI, id, []string{"ops"})
		require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "no open gate to reassign")
	})
}

package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RunTimers fires due gate timers until ctx ends. One goroutine sleeps until
// the earliest stored deadline; nothing runs per gate and nothing scans all
// gates. A change that moves a deadline wakes it. On start it fires
// whatever fell due while the server was down, once.
func (s *Service) RunTimers(ctx context.Context, log *slog.Logger) error {
	const batch = 256
	for {
		now := s.Now()
		ids, next, err := s.store.DueJobs(ctx, now, batch)
		if err != nil {
			log.Error("due timers", "err", err)
			next = now.Add(time.Second)
		}
		if failed := s.fireAll(ctx, ids, log); failed > 0 && failed == len(ids) {
			next = s.Now().Add(time.Second) // the store is failing: do not spin
		} else if len(ids) == batch {
			continue
		}
		if err := s.sleepUntil(ctx, next); err != nil {
			return nil
		}
	}
}

// fireAll fires due jobs concurrently so that their commits share group
// commits instead of paying one fsync each; it returns how many failed.
func (s *Service) fireAll(ctx context.Context, ids []string, log *slog.Logger) int {
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 32)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.FireTimers(ctx, id); err != nil {
				failed.Add(1)
				log.Error("fire timers", "job", id, "err", err)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

func (s *Service) sleepUntil(ctx context.Context, next time.Time) error {
	var wake <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(next.Sub(s.Now()))
		defer t.Stop()
		wake = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-s.timersPoke:
	}
	return nil
}

func (s *Service) pokeTimers() {
	select {
	case s.timersPoke <- struct{}{}:
	default:
	}
}

// FireTimers advances one job's gate timers to now: time it out, remind,
// escalate, each recorded and notified like any other change.
func (s *Service) FireTimers(ctx context.Context, id string) error {
	ev := by(EventReminded, System, ViaTimeout)
	_, _, err := s.change(ctx, id, ev, func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		ev.Type = EventReminded
		g := j.OpenGate()
		if g == nil || g.NextWake().IsZero() || now.Before(g.NextWake()) {
			return nil, errUnchanged
		}
		f, err := g.fire(now)
		if err != nil {
			return nil, fmt.Errorf("fire gate %s: %w", g.ID, err)
		}
		if f.TimedOut {
			ev.Type = EventGateResolved
			if err := closeGate(j, g, System, ViaTimeout, OutcomeTimedOut, "timeout "+g.Timeout+" passed", nil, now, fx); err != nil {
				return nil, err
			}
			j.noteCompleted(g, System, ViaTimeout, OutcomeTimedOut, Resolution{}, now)
			return g, nil
		}
		if len(f.Escalations) > 0 {
			ev.Type = EventEscalated
		}
		for i, e := range f.Escalations {
			tier := g.EscalationsDone - len(f.Escalations) + i + 1
			fx.Log = append(fx.Log, audit(now, System, ViaTimeout, g.ID, fmt.Sprintf("escalated %s (tier %d, after %s) to %s",
				gateLabel(g), tier, e.After, assigneeText(e.Assignees))))
			chs := append(append([]NotifyChannel(nil), s.channelsOf(g)...), e.Channels...)
			fx.Notify = append(fx.Notify, notifications(j, g, NotifyEscalated, fmt.Sprint(tier), chs, e.Assignees, now)...)
		}
		if f.Reminded {
			fx.Log = append(fx.Log, audit(now, System, ViaTimeout, g.ID, fmt.Sprintf("reminder %d for %s", g.RemindersSent, gateLabel(g))))
			fx.Notify = append(fx.Notify, notifications(j, g, NotifyReminder, fmt.Sprint(g.RemindersSent), s.channelsOf(g), g.AllAssignees(), now)...)
		}
		return g, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

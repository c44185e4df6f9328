package jobs

import (
	"context"
	"log/slog"
	"time"
)

// Maintenance defaults: dedupe keys are kept a week, a pass runs hourly,
// and one store transaction looks at no more than a thousand keys.
const (
	DefaultDedupeRetention  = 7 * 24 * time.Hour
	DefaultMaintenanceEvery = time.Hour
	DefaultMaintenanceBatch = 1000
)

// Maintenance configures RunMaintenance. Zero fields take the defaults.
type Maintenance struct {
	// DedupeRetention is how long a dedupe key (a Slack event id, a spent
	// callback token, a log entry key, a delivered notification's id) is
	// kept after it was recorded.
	DedupeRetention time.Duration
	// Every is the time between passes.
	Every time.Duration
	// Batch bounds the keys one store transaction looks at.
	Batch int
}

func (m Maintenance) withDefaults() Maintenance {
	if m.DedupeRetention <= 0 {
		m.DedupeRetention = DefaultDedupeRetention
	}
	if m.Every <= 0 {
		m.Every = DefaultMaintenanceEvery
	}
	if m.Batch <= 0 {
		m.Batch = DefaultMaintenanceBatch
	}
	return m
}

// RunMaintenance prunes dedupe keys older than the retention window: a pass
// at start and then one every m.Every, until ctx ends. A pass is many
// short transactions of m.Batch keys each, so it never stalls writers. On
// PostgreSQL every replica runs it; passes are idempotent and skip rows
// another replica is pruning.
func (s *Service) RunMaintenance(ctx context.Context, m Maintenance, log *slog.Logger) error {
	m = m.withDefaults()
	for {
		s.PruneOnce(ctx, m, log)
		t := time.NewTimer(m.Every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// PruneOnce runs one maintenance pass to the end of the sweep (or until
// ctx ends or the store fails) and returns what it did in total.
func (s *Service) PruneOnce(ctx context.Context, m Maintenance, log *slog.Logger) PruneResult {
	m = m.withDefaults()
	before := s.Now().Add(-m.DedupeRetention)
	var total PruneResult
	for ctx.Err() == nil {
		r, err := s.store.PruneKeys(ctx, before, m.Batch)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("prune dedupe keys", "err", err)
			}
			break
		}
		total.Deleted += r.Deleted
		total.Stamped += r.Stamped
		if !r.More {
			break
		}
	}
	if total.Deleted > 0 || total.Stamped > 0 {
		log.Info("pruned dedupe keys", "deleted", total.Deleted, "stamped", total.Stamped, "before", before)
	}
	return total
}

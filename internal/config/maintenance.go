package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// MaintenanceConfig is the config's `maintenance:` section: how long
// dedupe keys are kept and how the pruning runner paces itself. Zero or
// absent means the default (README, "Database growth").
type MaintenanceConfig struct {
	// DedupeRetention is how long a dedupe key is kept (default 168h).
	DedupeRetention string `yaml:"dedupeRetention"`
	// Every is the time between pruning passes (default 1h).
	Every string `yaml:"every"`
	// Batch is the most keys one store transaction looks at (default 1000).
	Batch int `yaml:"batch"`
}

// minDedupeRetention keeps retention above every window a dedupe key
// guards: Slack retries an event within minutes, and a callback link or a
// sign-in link expires long before a day has passed.
const minDedupeRetention = 24 * time.Hour

// Maintenance turns the section into the runner's settings, or says which
// setting is wrong.
func (m MaintenanceConfig) Maintenance() (jobs.Maintenance, error) {
	var errs []error
	dur := func(name, v string) time.Duration { return positiveDuration("maintenance."+name, v, "168h", &errs) }
	out := jobs.Maintenance{DedupeRetention: dur("dedupeRetention", m.DedupeRetention), Every: dur("every", m.Every), Batch: m.Batch}
	if out.DedupeRetention > 0 && out.DedupeRetention < minDedupeRetention {
		errs = append(errs, fmt.Errorf("maintenance.dedupeRetention %s is under 24h: a replayed event or link must still be recognised", out.DedupeRetention))
	}
	if m.Batch < 0 {
		errs = append(errs, fmt.Errorf("maintenance.batch must not be negative"))
	}
	return out, errors.Join(errs...)
}

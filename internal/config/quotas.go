package config

import (
	"errors"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// Quotas returns the per-job quotas of the `limits:` section and the cap on
// one annotation (limits.annotationBytes, 0 for the default 1 MiB), or
// says which setting is wrong.
func (l LimitsConfig) Quotas() (jobs.Quotas, int, error) {
	var errs []error
	for name, n := range map[string]int64{"annotationBytes": int64(l.AnnotationBytes), "jobAnnotations": int64(l.JobAnnotations),
		"jobAnnotationBytes": l.JobAnnotationBytes, "jobFiles": int64(l.JobFiles), "jobLogEntries": int64(l.JobLogEntries),
		"logPageBytes": int64(l.LogPageBytes), "jobPageBytes": int64(l.JobPageBytes)} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("limits.%s must not be negative", name))
		}
	}
	q := jobs.Quotas{JobAnnotations: l.JobAnnotations, JobAnnotationBytes: l.JobAnnotationBytes, JobFiles: l.JobFiles,
		JobLogEntries: l.JobLogEntries, LogPageBytes: l.LogPageBytes,
		JobPageBytes: l.JobPageBytes}
	if eff := q.WithDefaults(); l.AnnotationBytes > 0 && int64(l.AnnotationBytes) > eff.JobAnnotationBytes {
		errs = append(errs, fmt.Errorf("limits.annotationBytes (%d) exceeds limits.jobAnnotationBytes (%d): no annotation that size could ever be kept",
			l.AnnotationBytes, eff.JobAnnotationBytes))
	}
	return q, l.AnnotationBytes, errors.Join(errs...)
}

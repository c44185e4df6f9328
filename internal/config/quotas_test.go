package config

import (
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func TestLimitsConfig_Quotas(t *testing.T) {
	q, annotation, err := LimitsConfig{}.Quotas()
	require.NoError(t, err)
	require.Equal(t, jobs.Quotas{}, q, "absent keys leave the defaults to the service")
	require.Zero(t, annotation)
	require.Equal(t, jobs.DefaultJobFiles, q.WithDefaults().JobFiles)

	q, annotation, err = LimitsConfig{AnnotationBytes: 2 << 20, JobFiles: 5, JobLogEntries: 7, LogPageBytes: 4096, JobPageBytes: 8192}.Quotas()
	require.NoError(t, err)
	require.Equal(t, 2<<20, annotation)
	require.Equal(t, jobs.Quotas{JobFiles: 5, JobLogEntries: 7, LogPageBytes: 4096, JobPageBytes: 8192}, q)

	for name, tc := range map[string]struct {
		l    LimitsConfig
		want string
	}{
		"negative":              {LimitsConfig{JobFiles: -1}, "limits.jobFiles must not be negative"},
		"negative bytes":        {LimitsConfig{JobAnnotationBytes: -5}, "limits.jobAnnotationBytes must not be negative"},
		"negative page":         {LimitsConfig{JobPageBytes: -1}, "limits.jobPageBytes must not be negative"},
		"one above the job's":   {LimitsConfig{AnnotationBytes: 4096, JobAnnotationBytes: 1024}, "limits.annotationBytes (4096) exceeds limits.jobAnnotationBytes (1024)"},
		"one above the default": {LimitsConfig{AnnotationBytes: 512 << 20}, "exceeds limits.jobAnnotationBytes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := tc.l.Quotas()
			require.ErrorContains(t, err, tc.want)
		})
	}
}

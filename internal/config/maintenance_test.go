package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// TestMaintenanceConfig_Maintenance: absent settings take the defaults,
// set ones are read, and a bad one is refused naming the setting.
func TestMaintenanceConfig_Maintenance(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       jobs.Maintenance
		err        string
	}{
		{name: "absent", yaml: "", want: jobs.Maintenance{}},
		{name: "set", yaml: "maintenance: {dedupeRetention: 720h, every: 10m, batch: 50}\n",
			want: jobs.Maintenance{DedupeRetention: 720 * time.Hour, Every: 10 * time.Minute, Batch: 50}},
		{name: "not a duration", yaml: "maintenance: {dedupeRetention: a week}\n", err: `maintenance.dedupeRetention "a week" must be a positive duration`},
		{name: "negative", yaml: "maintenance: {every: -1h}\n", err: `maintenance.every "-1h" must be a positive duration`},
		{name: "too short", yaml: "maintenance: {dedupeRetention: 1h}\n", err: "maintenance.dedupeRetention 1h0m0s is under 24h"},
		{name: "negative batch", yaml: "maintenance: {batch: -5}\n", err: "maintenance.batch must not be negative"},
		{name: "unknown key", yaml: "maintenance: {retention: 1h}\n", err: "retention"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(strings.NewReader(tc.yaml), envOf(nil))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			got, err := c.Maintenance.Maintenance()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

package config

import (
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func TestLimitsConfig_MaxAssignees(t *testing.T) {
	l, _, _, err := LimitsConfig{}.Limits()
	require.NoError(t, err)
	require.Equal(t, jobs.DefaultMaxAssignees, l.WithDefaults().MaxAssignees, "absent is the default")
	l, _, _, err = LimitsConfig{MaxAssignees: 7}.Limits()
	require.NoError(t, err)
	require.Equal(t, 7, l.MaxAssignees)
	_, _, _, err = LimitsConfig{MaxAssignees: -1}.Limits()
	require.ErrorContains(t, err, "limits.maxAssignees must not be negative")
	_, _, _, err = LimitsConfig{TalkbackQueue: -1}.Limits()
	require.ErrorContains(t, err, "limits.talkbackQueue must not be negative")
	l, _, _, err = LimitsConfig{MaxChecklistItems: 9}.Limits()
	require.NoError(t, err)
	require.Equal(t, 9, l.MaxChecklistItems)
	_, _, wc, err := LimitsConfig{SendTimeout: "5s"}.Limits()
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, wc.SendTimeout)
	_, _, _, err = LimitsConfig{SendTimeout: "2m"}.Limits()
	require.ErrorContains(t, err, "limits.sendTimeout 2m0s exceeds 60s")
	_, _, _, err = LimitsConfig{MarkdownBytes: -1}.Limits()
	require.ErrorContains(t, err, "limits.markdownBytes must not be negative")
}

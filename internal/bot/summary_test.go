package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

func TestJobSummary(t *testing.T) {
	deadline := time.Date(2026, 3, 14, 14, 2, 0, 0, time.UTC)
	success := jobs.OutcomeSuccessful
	open := &jobs.Job{ID: "qa-1234", Name: "Deploy <v3>", Status: jobs.StatusActionRequired, Gates: []*jobs.Gate{{ID: "g1",
		GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"ops", "bob"}},
		State:      jobs.GateOpen, Deadline: &deadline}}}
	closed := &jobs.Job{ID: "qa-1", Name: "Deploy", Status: jobs.StatusSuccessful, Message: "done & dusted", Gates: []*jobs.Gate{{ID: "g1",
		GateConfig: jobs.GateConfig{Kind: jobs.KindApproval, Name: "Go?"}, State: jobs.GateClosed, Outcome: &success}}}
	cases := []struct {
		name string
		job  *jobs.Job
		url  string
		want string
	}{
		{"open gate", open, "http://cla.test/", "*qa-1234* · Deploy &lt;v3&gt; — status `action_required`\n" +
			"Open action gate g1: *Swap disk* · assignees: ops, bob · deadline 2026-03-14T14:02:00Z\n<http://cla.test/jobs/qa-1234|View job>"},
		{"closed gate", closed, "", "*qa-1* · Deploy — status `successful`\nNo open gate; last: approval gate g1 (Go?) successful\n> done &amp; dusted"},
		{"no gates", &jobs.Job{ID: "x", Name: "X", Status: jobs.StatusPending}, "", "*x* · X — status `pending`\nNo gates yet."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, jobSummary(tc.job, tc.url))
		})
	}
}

package jobs

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCanTransition walks every pair of statuses.
func TestCanTransition(t *testing.T) {
	allowed := map[Status][]Status{
		StatusPending:          {StatusInProgress, StatusActionRequired, StatusAwaitingApproval, StatusPaused, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled},
		StatusInProgress:       {StatusActionRequired, StatusAwaitingApproval, StatusPaused, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled},
		StatusActionRequired:   {StatusInProgress, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled},
		StatusAwaitingApproval: {StatusInProgress, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled},
		StatusPaused:           {StatusInProgress, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled},
		StatusSuccessful:       nil,
		StatusFailure:          nil,
		StatusRejected:         nil,
		StatusCancelled:        nil,
	}
	for _, from := range Statuses {
		for _, to := range append(Statuses, Status("bogus")) {
			want := false
			for _, a := range allowed[from] {
				want = want || a == to
			}
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				require.Equal(t, want, CanTransition(from, to))
			})
		}
	}
}

func TestStatusAfter(t *testing.T) {
	tests := []struct {
		name string
		gate GateConfig
		out  Outcome
		want Status
	}{
		{"action done", GateConfig{Kind: KindAction}, OutcomeSuccessful, StatusInProgress},
		{"action done ends job", GateConfig{Kind: KindAction, CompletesJob: true}, OutcomeSuccessful, StatusSuccessful},
		{"action failed", GateConfig{Kind: KindAction}, OutcomeFailure, StatusFailure},
		{"action failed, continue", GateConfig{Kind: KindAction, ContinueOnFailure: true}, OutcomeFailure, StatusInProgress},
		{"completesJob wins over continue", GateConfig{Kind: KindAction, ContinueOnFailure: true, CompletesJob: true}, OutcomeFailure, StatusFailure},
		{"approved", GateConfig{Kind: KindApproval}, OutcomeApproved, StatusInProgress},
		{"rejected", GateConfig{Kind: KindApproval}, OutcomeRejected, StatusRejected},
		{"rejected, continue", GateConfig{Kind: KindApproval, ContinueOnFailure: true}, OutcomeRejected, StatusInProgress},
		{"resumed", GateConfig{Kind: KindPause}, OutcomeResumed, StatusInProgress},
		{"retry", GateConfig{Kind: KindTrap}, OutcomeRetry, StatusInProgress},
		{"skip", GateConfig{Kind: KindTrap}, OutcomeSkip, StatusInProgress},
		{"abort", GateConfig{Kind: KindTrap}, OutcomeAbort, StatusFailure},
		{"timed out", GateConfig{Kind: KindAction}, OutcomeTimedOut, StatusFailure},
		{"timed out, continue", GateConfig{Kind: KindPause, ContinueOnFailure: true}, OutcomeTimedOut, StatusInProgress},
		{"cancelled", GateConfig{Kind: KindAction}, OutcomeCancelled, StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, StatusAfter(&Gate{GateConfig: tt.gate}, tt.out))
		})
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"qa-1234": true, "a": true, "x.y_z-1": true, "": false, "-a": false, "A1": false,
		"a b": false, "a/../b": false, string(make([]byte, 65)): false, strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false, ".a": false, "_a": false, "a\n": false, "é": false} {
		require.Equal(t, want, ValidID(id), id)
	}
}

// FuzzValidID holds the hand-written check to the regexp it replaced.
func FuzzValidID(f *testing.F) {
	pattern := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	for _, s := range []string{"qa-1234", "-a", "a\n", strings.Repeat("z", 64), strings.Repeat("z", 65), "a.b_c-d", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidID(id), pattern.MatchString(id); got != want {
			t.Fatalf("ValidID(%q) = %v, the regexp says %v", id, got, want)
		}
	})
}

func TestParseDuration(t *testing.T) {
	tests := map[string]string{"PT24H": "24h0m0s", "P1DT2H": "26h0m0s", "P2W": "336h0m0s", "PT1.5S": "1.5s", "90m": "1h30m0s", "PT30M": "30m0s"}
	for in, want := range tests {
		d, err := ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, d.String(), in)
	}
	for _, bad := range []string{"", "P", "PT", "24", "-1h", "0s", "PT0S", "1 day",
		"P20000W", "P15000W15000DT2500000H", "PT99999999999999999999S"} { // overflow, not a wrapped value

		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
}

func TestRenderDescription(t *testing.T) {
	j := &Job{ID: "qa-1", Name: "Deploy", Context: map[string]any{"resource": map[string]any{"name": "node-7"}}}
	out, err := RenderDescription("Replace the disk in {[.resource.name]} for {[.job.id]}", j)
	require.NoError(t, err)
	require.Equal(t, "Replace the disk in node-7 for qa-1", out)
	_, err = RenderDescription("{[.release.version]}", j)
	require.Equal(t, EINVALID, ErrorCode(err), "missing key is a clear error")
	_, err = RenderDescription("{[ .x", j)
	require.Equal(t, EINVALID, ErrorCode(err))
	out, err = RenderDescription("plain {{.x}} text", j)
	require.NoError(t, err)
	require.Equal(t, "plain {{.x}} text", out, "only {[ ]} is template syntax")
}

func TestIdentity_Matches(t *testing.T) {
	id := Identity{Name: "alice", Email: "Alice@Example.com", Slack: "U0ALICE", Groups: []string{"ops", "@oncall"}}
	for a, want := range map[string]bool{"alice": true, "@alice": true, "alice@example.com": true, "U0ALICE": true,
		"slack:U0ALICE": true, "ops": true, "oncall": true, "@oncall": true, "bob": false, "": false, "dev": false} {
		require.Equal(t, want, id.Matches(a), a)
	}
	d := NewDirectory([]Identity{id})
	require.Equal(t, "alice", d.ForSlackUser("U0ALICE", "").Name)
	require.Equal(t, "alice", d.ForSlackUser("U0OTHER", "alice@example.com").Name, "by email")
	require.Equal(t, "slack:U0BOB", d.ForSlackUser("U0BOB", "bob@example.com").Name)
}

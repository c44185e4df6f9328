package blocks_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	opened = time.Date(2026, 3, 13, 14, 2, 0, 0, time.UTC)
	now    = opened.Add(time.Minute)
)

func job(g *jobs.Gate) *jobs.Job {
	return &jobs.Job{ID: "qa-1234", Name: "Deploy v3.1.0", Status: jobs.StatusActionRequired, Requester: "ci",
		Context: map[string]any{
			"deployment":  map[string]any{"name": "api"},
			"environment": map[string]any{"name": "prod"},
			"resource":    map[string]any{"name": "node-7"},
			"release":     map[string]any{"version": "v3.1.0"},
		}, Gates: []*jobs.Gate{g}}
}

func gate(kind jobs.GateKind, name string) *jobs.Gate {
	deadline := opened.Add(24 * time.Hour)
	return &jobs.Gate{ID: "g1", GateConfig: jobs.GateConfig{Kind: kind, Name: name,
		Description: "Replace the failed disk in *node-7*.\nSee <https://runbook.example/disk|the runbook>.",
		Assignees:   []string{"alice", "ops", "bob@example.com"}},
		State: jobs.GateOpen, OpenedAt: opened, Deadline: &deadline, Approvals: []jobs.Vote{}}
}

func view(g *jobs.Gate) blocks.GateView {
	return blocks.GateView{Job: job(g), Gate: g, Now: now, PublicURL: "https://cla.example/",
		SlackIDs: map[string]string{"alice": "U0ALICE", "bob@example.com": "U0BOB"}}
}

func closeGate(g *jobs.Gate, o jobs.Outcome, by, via string, msg string) {
	at := opened.Add(30 * time.Minute)
	g.State, g.Outcome, g.ResolvedBy, g.ResolvedVia, g.ResolvedAt = jobs.GateClosed, &o, &by, &via, &at
	if msg != "" {
		g.Message = &msg
	}
}

func cases() map[string]any {
	action := gate(jobs.KindAction, "Swap failed disk")
	action.RequireEvidence = true
	action.Checklist = []string{"Drain node", "Swap disk", "Rebuild RAID"}
	action.Ticks = []jobs.Tick{{Item: 0, Checked: true, By: "alice"}, {Item: 2, Checked: true}, {Item: 2, Checked: false}}

	approval := gate(jobs.KindApproval, "Release to prod")
	approval.Required = 2
	approval.Approvals = []jobs.Vote{{By: "alice", Via: "slack", At: now}}

	done := gate(jobs.KindAction, "Swap failed disk")
	done.Checklist = []string{"Drain node", "Swap disk"}
	done.Ticks = []jobs.Tick{{Item: 0, Checked: true}, {Item: 1, Checked: true}}
	closeGate(done, jobs.OutcomeSuccessful, "slack:U0JANE", jobs.ViaAPI, "")
	done.Evidence = &jobs.Evidence{Message: "swapped, RAID rebuilt", URL: "https://tickets.example/OPS-1"}
	doneView := view(done)
	doneView.Attempts = []blocks.Attempt{{By: "bob@example.com", Action: "complete", Via: "slack", At: opened.Add(31 * time.Minute)}}

	rejected := gate(jobs.KindApproval, "Release to prod")
	closeGate(rejected, jobs.OutcomeRejected, "carol", jobs.ViaCLI, "not on a Friday")

	timedOut := gate(jobs.KindPause, "Wait for traffic")
	closeGate(timedOut, jobs.OutcomeTimedOut, "cla", jobs.ViaTimeout, "timeout PT24H passed")

	trap := view(gate(jobs.KindTrap, "Smoke test failed"))
	trap.Job.ID = "qa-1235"
	home := []blocks.GateView{trap, view(approval)}
	return map[string]any{
		"action_open":         message(view(action)),
		"approval_open":       message(view(approval)),
		"pause_open":          message(view(gate(jobs.KindPause, "Wait for traffic"))),
		"trap_open":           message(view(gate(jobs.KindTrap, "Smoke test failed"))),
		"action_completed":    message(doneView),
		"approval_rejected":   message(view(rejected)),
		"pause_timed_out":     message(view(timedOut)),
		"evidence_modal":      blocks.EvidenceModal(job(action), action),
		"failure_modal":       blocks.FailureModal(job(action), action),
		"home":                blocks.Home(home, 3),
		"home_empty":          blocks.Home(nil, 0),
		"home_more_uncounted": blocks.Home(home, -1),
		"nudge_reminder":      blocks.Nudge(view(action), jobs.NotifyReminder, []string{"alice", "ops"}),
		"nudge_escalated":     blocks.Nudge(view(action), jobs.NotifyEscalated, []string{"U0CAROL"}),
		"nudge_reassigned":    blocks.Nudge(view(action), jobs.NotifyReassigned, []string{"bob@example.com"}),
	}
}

func message(v blocks.GateView) map[string]any {
	return map[string]any{"text": blocks.Text(v), "blocks": blocks.Message(v)}
}

func TestMessage_Golden(t *testing.T) {
	for name, payload := range cases() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(payload))
			got := buf.Bytes()
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./bot/blocks -update to create the golden file")
			require.Equal(t, string(want), string(got))
			validate(t, payload)
		})
	}
}

// validate checks a payload against Slack's limits with the emulator's
// validator, per surface.
func validate(t *testing.T, payload any) {
	t.Helper()
	var bs []slack.Block
	surface := slackemu.SurfaceMessage
	switch p := payload.(type) {
	case map[string]any:
		bs = p["blocks"].([]slack.Block)
	case slack.ModalViewRequest:
		bs, surface = p.Blocks.BlockSet, slackemu.SurfaceModal
	case slack.HomeTabViewRequest:
		bs, surface = p.Blocks.BlockSet, slackemu.SurfaceHome
	default:
		return
	}
	raw, err := json.Marshal(bs)
	require.NoError(t, err)
	errs, err := slackemu.ValidateBlocks(raw, surface)
	require.NoError(t, err)
	require.Empty(t, errs)
}

func TestMessage_Limits(t *testing.T) {
	long := strings.Repeat("Lorem ipsum dolor sit amet, <consectetur> & adipiscing elit. ", 170) // ~10 KB
	huge := strings.Repeat("ü", 100_000)
	items := func(n int, text string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = text
		}
		return out
	}
	tests := []struct {
		name        string
		description string
		checklist   []string
		gateName    string
		wantChecks  int
	}{
		{"10KB description and 40 items", long, items(40, "Check the thing"), "Swap", 40},
		{"100K runes without spaces", huge, nil, strings.Repeat("n", 400), 0},
		{"500 long items", long, items(500, strings.Repeat("x", 300)), "Swap", 300},
		{"empty", "", nil, "Swap", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gate(jobs.KindAction, tt.gateName)
			g.Description, g.Checklist = tt.description, tt.checklist
			v := view(g)
			bs := blocks.Message(v)
			require.LessOrEqual(t, len(bs), 50)
			validate(t, map[string]any{"blocks": bs})
			raw, err := json.Marshal(bs)
			require.NoError(t, err)
			require.Equal(t, tt.wantChecks, strings.Count(string(raw), `"value":"`)-countButtons(bs), "checklist options")
			if tt.description != "" {
				require.Contains(t, string(raw), "Lorem"[:0]+firstWord(tt.description))
			}
			closeGate(g, jobs.OutcomeSuccessful, "alice", jobs.ViaSlack, tt.description)
			closed := blocks.Message(v)
			require.LessOrEqual(t, len(closed), 50)
			validate(t, map[string]any{"blocks": closed})
		})
	}
}

func firstWord(s string) string { return strings.Fields(s)[0][:1] }

// countButtons counts button values (each carries the job id).
func countButtons(bs []slack.Block) int {
	n := 0
	for _, b := range bs {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, el := range a.Elements.ElementSet {
				if _, ok := el.(*slack.ButtonBlockElement); ok {
					n++
				}
			}
		}
	}
	return n
}

func TestMessage_Open(t *testing.T) {
	tests := []struct {
		kind jobs.GateKind
		want []string
	}{
		{jobs.KindAction, []string{blocks.ActionComplete, blocks.ActionFail}},
		{jobs.KindApproval, []string{blocks.ActionApprove, blocks.ActionReject}},
		{jobs.KindPause, []string{blocks.ActionResume}},
		{jobs.KindTrap, []string{blocks.ActionRetry, blocks.ActionSkip, blocks.ActionAbort}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			g := gate(tt.kind, "Step")
			v := view(g)
			require.Equal(t, append(tt.want, blocks.ActionView), actionIDs(blocks.Message(v)))
			closeGate(g, jobs.OutcomeCancelled, "ci", jobs.ViaAPI, "")
			require.Equal(t, []string{blocks.ActionView}, actionIDs(blocks.Message(v)), "resolved: buttons removed")
		})
	}
}

func actionIDs(bs []slack.Block) []string {
	var out []string
	for _, b := range bs {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, el := range a.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					out = append(out, btn.ActionID)
					require.Equal(nil, "qa-1234", btn.Value)
				}
			}
		}
	}
	return out
}

func TestParseBlockID(t *testing.T) {
	tests := []struct {
		in              string
		job, gate, part string
		ok              bool
	}{
		{blocks.BlockID("qa-1", "g2", blocks.ChecklistPart(10)), "qa-1", "g2", "checklist-10", true},
		{"qa-1/g2", "", "", "", false},
		{"/g2/x", "", "", "", false},
		{"", "", "", "", false},
		{"a/b/c/d", "a", "b", "c/d", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			job, gate, part, ok := blocks.ParseBlockID(tt.in)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, []string{tt.job, tt.gate, tt.part}, []string{job, gate, part})
		})
	}
	start, ok := blocks.ParseChecklistPart("checklist-20")
	require.True(t, ok)
	require.Equal(t, 20, start)
	for _, bad := range []string{"checklist-", "checklist--1", "actions", "checklist-x"} {
		_, ok := blocks.ParseChecklistPart(bad)
		require.False(t, ok, bad)
	}
	job, gate, ok := blocks.ParseMetadata(blocks.Metadata("qa-1", "g3"))
	require.True(t, ok)
	require.Equal(t, []string{"qa-1", "g3"}, []string{job, gate})
	_, _, ok = blocks.ParseMetadata("qa-1")
	require.False(t, ok)
}

func TestMention(t *testing.T) {
	ids := map[string]string{"alice": "U0ALICE"}
	tests := map[string]string{
		"alice":       "<@U0ALICE>",
		"slack:U0BOB": "<@U0BOB>",
		"U0CAROL":     "<@U0CAROL>",
		"@ops":        "@ops",
		"a<b>&c":      "@a&lt;b&gt;&amp;c",
		"dan@ex.com":  "@dan@ex.com",
		"":            "@",
	}
	for in, want := range tests {
		require.Equal(t, want, blocks.Mention(in, ids), in)
	}
}

package bot

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

const hostile = `<!channel> <!everyone> <!subteam^S0OPS|@ops> <@U0EVIL> <https://evil.example|https://sso.corp> a & b`

// TestBot_HostileValuesStayData drives the mention door with a job, gate
// and message carrying hostile markup: the summary of "@cla add" and
// "@cla status", a refused and an accepted resolution, an unknown verb.
// Every Slack control sequence cla sent is its own (the asker's mention,
// the job link); the values arrive as text.
func TestBot_HostileValuesStayData(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	_, err := h.svc.CreateJob(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, jobs.NewJob{ID: "qa-77", Name: hostile,
		Gate: &jobs.GateConfig{Kind: jobs.KindApproval, Name: hostile, Assignees: []string{"ops"}, Required: 2}})
	require.NoError(t, err)
	h.ask(h.alice.ID, "#general", "add #job-qa-77")
	ch, ok := h.emu.ChannelByName("job-qa-77")
	require.True(t, ok)
	answers := func() int {
		n := len(h.emu.Ephemerals(h.alice.ID))
		for _, m := range h.emu.Messages(ch.ID) {
			if m.ThreadTS != "" && m.ThreadTS != m.TS && m.User != h.alice.ID {
				n++
			}
		}
		return n
	}
	// One at a time, each waiting for its answer, so the order is fixed.
	for _, typed := range []string{"status", "status qa-77", "approve " + hostile, "reject " + hostile, "approve again", "frobnicate " + hostile} {
		before := answers()
		h.mention(h.alice.ID, ch.ID, typed)
		h.waitFor("answer to "+typed, func() bool { return answers() > before })
	}

	tok := regexp.MustCompile(`<[^<>]*>`)
	var seen int
	for _, c := range h.emu.Calls("") {
		if c.Method != "chat.postMessage" && c.Method != "chat.postEphemeral" && c.Method != "chat.update" {
			continue
		}
		texts := []string{c.Arg("text")}
		if raw := c.Arg("blocks"); raw != "" {
			var v any
			require.NoError(t, json.Unmarshal([]byte(raw), &v))
			texts = append(texts, strings.Split(string(mustJSON(v)), `"`)...)
		}
		for _, s := range texts {
			if strings.Contains(s, "&lt;!channel&gt;") {
				seen++
			}
			require.Empty(t, slacktext.Broadcasts(s), "%s: %s", c.Method, s)
			for _, m := range tok.FindAllString(s, -1) {
				own := m == "<@"+h.alice.ID+">" || strings.HasPrefix(m, "<http://cla.test/jobs/") || strings.HasPrefix(m, "<#"+ch.ID)
				require.True(t, own, "%s sent a control sequence from a value: %s\nin %s", c.Method, m, s)
			}
		}
	}
	require.Positive(t, seen, "the values reached Slack, as text")
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b)))
}

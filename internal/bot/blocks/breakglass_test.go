package blocks_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
)

// TestBreakGlassNotice: a reason, gate name or job text built to hurt
// reaches Slack as text, never as a mass mention or a disguised link.
func TestBreakGlassNotice(t *testing.T) {
	job := &jobs.Job{ID: "qa-1"}
	g := &jobs.Gate{ID: "g1", GateConfig: jobs.GateConfig{Name: "Swap <!here>"},
		BreakGlass: &jobs.BreakGlassRecord{By: "root", Reason: "<!channel> see <https://evil.example|https://sso.corp> & go", At: time.Unix(0, 0)}}
	got := blocks.BreakGlassNotice(job, g, map[string]string{"root": "U0ROOT"})
	require.Equal(t, "⚠️ Break-glass by <@U0ROOT> on Swap &lt;!here&gt; (job qa-1): "+
		"&lt;!channel&gt; see &lt;https://evil.example|https://sso.corp&gt; &amp; go", got)
	require.Empty(t, blocks.BreakGlassNotice(job, &jobs.Gate{}, nil), "no override, no notice")
}

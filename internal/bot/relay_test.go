package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// TestBot_RelaysAnnotations: what a pipeline or the web adds to a job shows
// up in its channel; what was said in Slack is not echoed back.
func TestBot_RelaysAnnotations(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-70")
	h.stop() // a fresh bot, not a second one beside it (that one outlived the test)
	h.start()
	ctx := context.Background()
	ci := jobs.Identity{Name: "ci"}
	_, err := h.svc.Annotate(ctx, ci, jobs.ViaSlack, "qa-70", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "said in slack"})
	require.NoError(t, err)
	_, err = h.svc.Annotate(ctx, ci, jobs.ViaAPI, "qa-70", jobs.NewAnnotation{Kind: jobs.AnnotationLog, Text: "step build: ok <b>"})
	require.NoError(t, err)
	_, err = h.svc.Annotate(ctx, ci, jobs.ViaWeb, "qa-70", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "plan.txt", Content: []byte("abc")})
	require.NoError(t, err)

	_, err = h.svc.Annotate(ctx, ci, jobs.ViaWeb, "qa-70", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "looks fine"})
	require.NoError(t, err)
	m, err := h.emu.WaitMessage(h.ctx(), ch.ID, func(m slackemu.Message) bool { return strings.Contains(m.Text, "looks fine") })
	require.NoError(t, err)
	require.Contains(t, m.Text, "ci via web")
	var texts []string
	for _, m := range h.emu.Messages(ch.ID) {
		texts = append(texts, m.Text)
	}
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "step build: ok &lt;b&gt;", "relayed, escaped for Slack")
	require.NotContains(t, all, "said in slack", "Slack's own annotations are not echoed")
	require.NotContains(t, all, "plan.txt", "files are not posted")
}

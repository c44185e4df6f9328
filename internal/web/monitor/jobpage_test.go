package monitor

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// hostile inputs: each must come out inert.
const (
	scriptTag   = `<script>alert(1)</script>`
	jsLink      = `[click me](javascript:alert(1))`
	onerrorImg  = `<img src=x onerror=alert(1)>`
	rawJSAnchor = `<a href="javascript:alert(1)">raw</a>`
)

// requireInert parses the page as a browser would and fails on anything
// that could run: a script other than the monitor's own, an event-handler
// attribute, or a javascript: URL.
func requireInert(t *testing.T, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" {
				require.Len(t, n.Attr, 2, "script with unexpected attributes")
				require.Equal(t, "/assets/monitor.js", attr(n, "src"))
				require.Nil(t, n.FirstChild, "inline script")
			}
			require.NotEqual(t, "img", n.Data, "an injected image")
			for _, a := range n.Attr {
				require.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "event attribute %s on <%s>", a.Key, n.Data)
				v := strings.ToLower(strings.TrimSpace(a.Val))
				require.False(t, strings.HasPrefix(v, "javascript:"), "javascript: URL in %s on <%s>", a.Key, n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestMonitor_jobXSS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	desc := "# Steps\n\n" + scriptTag + "\n\n" + jsLink + "\n\n" + onerrorImg + "\n\n" + rawJSAnchor +
		"\n\n**Bold** and [docs](https://docs.example/runbook)"
	f.createJob("qa-1", "Deploy "+scriptTag, &jobs.GateConfig{Kind: jobs.KindAction, Name: "Gate " + onerrorImg,
		Description: desc, Assignees: []string{"ops"}, Checklist: []string{"Item " + scriptTag}})
	_, err := f.svc.Annotate(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "comment " + scriptTag + onerrorImg})
	require.NoError(t, err)
	_, err = f.svc.AppendLog(ctx, "qa-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "slack:U1", Via: jobs.ViaSlack,
		Text: "mirrored " + onerrorImg + " " + rawJSAnchor, Key: "slack:1"}})
	require.NoError(t, err)
	_, _, err = f.svc.Resolve(ctx, f.id("bob"), jobs.ViaAPI, "qa-1", jobs.Resolution{Action: jobs.ActFail,
		Message: scriptTag, Evidence: &jobs.Evidence{Message: onerrorImg, URL: "javascript:alert(1)"}})
	require.NoError(t, err)

	b := f.signIn("alice")
	resp, page := b.get("/jobs/qa-1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireInert(t, page)
	t.Run("markdown still renders", func(t *testing.T) {
		require.Contains(t, page, "<h1>Steps</h1>")
		require.Contains(t, page, "<strong>Bold</strong>")
		require.Contains(t, page, `href="https://docs.example/runbook"`)
	})
	t.Run("text shows escaped", func(t *testing.T) {
		require.Contains(t, page, "comment &lt;script&gt;alert(1)&lt;/script&gt;")
		require.Contains(t, page, "mirrored &lt;img src=x onerror=alert(1)&gt;")
		require.Contains(t, page, `<span class="ktag">slack</span> <strong>slack:U1</strong>`)
	})
	t.Run("list is inert too", func(t *testing.T) {
		_, list := b.get("/")
		requireInert(t, list)
	})
	t.Run("live fragment", func(t *testing.T) {
		_, frag := b.get("/jobs/qa-1?fragment=live")
		require.NotContains(t, frag, "<html")
		require.Contains(t, frag, `class="live-root"`)
		requireInert(t, frag)
	})
}

func TestMonitor_job(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cfg := actionGate()
	cfg.Checklist = []string{"Drain node"}
	f.createJob("qa-1", "Deploy v3.1.0", cfg)
	long := strings.Repeat("line of output\n", 40)
	_, err := f.svc.Annotate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.NewAnnotation{Kind: jobs.AnnotationLog, Text: long})
	require.NoError(t, err)
	b := f.signIn("alice")
	_, page := b.get("/jobs/qa-1")
	for name, want := range map[string]string{
		"status with icon and words": `<span aria-hidden="true">⚠</span> Action required</span>`,
		"countdown":                  `class="countdown" datetime=`,
		"assignees":                  `<dt>Assignees</dt><dd>ops</dd>`,
		"timeline svg":               `<svg class="timeline"`,
		"gate lane in timeline":      `g1 · Swap failed disk — open`,
		"checklist button":           `aria-pressed="false"`,
		"evidence required":          "required to complete",
		"long log collapsed":         `<details class="etext"><summary>line of output <span class="hint">(41 lines`,
		"live stream position":       `data-after="3"`,
		"version for live updates":   `data-version="2"`,
	} {
		t.Run(name, func(t *testing.T) { require.Contains(t, page, want) })
	}
	t.Run("unknown job", func(t *testing.T) {
		resp, body := b.get("/jobs/nope")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, body, "nope")
	})
	t.Run("invalid id", func(t *testing.T) {
		resp, _ := b.get("/jobs/" + url.PathEscape("NOT VALID"))
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	})
}

func TestTimeline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createJob("qa-1", "Deploy", nil)
	_, _, err := f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship <it>"})
	require.NoError(t, err)
	_, _, err = f.svc.Resolve(ctx, f.id("alice"), jobs.ViaWeb, "qa-1", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	_, err = f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1", jobs.StatusSuccessful, "")
	require.NoError(t, err)
	changes, err := f.mon.statusChanges(ctx, "qa-1", nil, false)
	require.NoError(t, err)
	svg := string(timeline(f.job("qa-1"), changes, f.svc.Now()))
	for _, want := range []string{`class="tl-wait"`, `class="tl-ok"`, "Ship &lt;it&gt;", "Awaiting approval", "Successful", `class="tl-axis"`} {
		require.Contains(t, svg, want)
	}
	require.NotContains(t, svg, "<it>")
}

// TestMonitor_LongDescriptionIsPlainText: goldmark's time grows with the
// square of some inputs (64 KiB of "[a](" took 3.4 s; the API accepts 1 MiB
// descriptions, a minute or more), and every view of the job page and
// every live refresh rendered every gate's description again. A
// description over limits.markdownBytes is shown as plain text instead.
func TestMonitor_LongDescriptionIsPlainText(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("[a](", DefaultMarkdownBytes/4+1)
	f.createJob("qa-long", "Deploy", &jobs.GateConfig{Kind: jobs.KindAction, Name: "Gate", Description: long, Assignees: []string{"ops"}})
	f.createJob("qa-short", "Deploy", &jobs.GateConfig{Kind: jobs.KindAction, Name: "Gate",
		Description: strings.Repeat("x", DefaultMarkdownBytes-len("**Bold**")) + "**Bold**", Assignees: []string{"ops"}})
	b := f.signIn("alice")
	for _, path := range []string{"/jobs/qa-long", "/jobs/qa-long?fragment=live"} {
		resp, page := b.get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, strings.Contains(page, `<div class="md"><p class="plain">[a]([a](`), "%s: shown as text, not parsed", path)
		requireInert(t, page)
	}
	_, page := b.get("/jobs/qa-short")
	require.True(t, strings.Contains(page, "<strong>Bold</strong>"), "a description within the limit is Markdown")
}

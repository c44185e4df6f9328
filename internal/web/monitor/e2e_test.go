package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// newChromium starts headless Chromium with a fresh profile, or skips the
// test when it is not installed (fails instead when CI=true).
func newChromium(t *testing.T, width, height int) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found: %v", err)
		}
		t.Skip("chromium not installed; apt-get install chromium to run browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx)) // start the browser, without a timeout
	// A safety net for a hung browser, far above what a loaded CI machine
	// needs for a test's pages (Chromium and -race share 2 busy cores).
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

type css = chromedp.CSS

// signInBrowser signs a tab in through the token form.
func signInBrowser(f *fixture, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(f.srv.URL+"/login"),
		chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "tok-"+name),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(".who")),
	)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
	require.NoError(t, err)
	return s
}

// poll waits until a JavaScript expression is true in the tab (2 min at
// most: a safety net, the update normally shows within milliseconds).
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(2*time.Minute))
}

func TestMonitor_browser(t *testing.T) {
	ctx := newChromium(t, 1280, 900)
	f := newFixture(t)
	f.createJob("qa-1234", "Deploy v3.1.0", &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap failed disk",
		Description: "Replace the **failed disk** in node-7.", Assignees: []string{"ops"}, RequireEvidence: true, Timeout: "PT24H"})
	f.createJob("qa-other", "Unrelated build", nil)

	// Tab 1: sign in, find the waiting job, submit without evidence.
	require.NoError(t, chromedp.Do(ctx,
		signInBrowser(f, "alice"),
		chromedp.Click(css(`a[href="/?mine=1"]`)),
		chromedp.WaitVisible(css(`a[href="/jobs/qa-1234"]`)),
		chromedp.Click(css(`a[href="/jobs/qa-1234"]`)),
		chromedp.WaitVisible(css(`#gate-g1 button[value=complete]`)),
		chromedp.Click(css(`#gate-g1 button[value=complete]`)),
		chromedp.WaitVisible(css(`#ev-err-g1`)),
	))
	require.Contains(t, text(t, ctx, "#ev-err-g1"), "needs evidence")
	require.Equal(t, jobs.StatusActionRequired, f.job("qa-1234").Status)

	// Tab 2: the same job, open and live.
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	require.NoError(t, chromedp.Do(tab2,
		chromedp.Navigate(f.srv.URL+"/jobs/qa-1234"),
		chromedp.WaitVisible(css(`#live-state.on`)),
	))
	_, err := chromedp.Run(tab2, chromedp.Evaluate[bool](`window.__noReload = "still here"; true`))
	require.NoError(t, err)

	// Tab 1: fill the evidence and complete.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(css(`#evm-g1`), "Swapped the disk; RAID rebuilt"),
		chromedp.SendKeys(css(`#evu-g1`), "https://tickets.example/OPS-42"),
		chromedp.Click(css(`#gate-g1 button[value=complete]`)),
		chromedp.WaitVisible(css(`.notice`)),
	))
	require.Contains(t, text(t, ctx, "#job-status"), "Successful")
	g := f.job("qa-1234").Gate("g1")
	require.Equal(t, jobs.ViaWeb, *g.ResolvedVia)
	require.Equal(t, "https://tickets.example/OPS-42", g.Evidence.URL)

	// Tab 2 sees it without a reload, then a mirrored Slack message too.
	require.NoError(t, chromedp.Do(tab2, poll(`document.getElementById("job-status").textContent.includes("Successful")`)))
	require.Contains(t, text(t, tab2, "#job-status"), "Successful")
	marker, err := chromedp.Run(tab2, chromedp.Evaluate[string](`window.__noReload`))
	require.NoError(t, err)
	require.Equal(t, "still here", marker, "the page was not reloaded")
	_, err = f.svc.AppendLog(context.Background(), "qa-1234", []jobs.LogEntry{{Kind: jobs.LogMessage,
		Actor: "slack:U0BOB", Via: jobs.ViaSlack, Text: "thanks <b>alice</b>!", Key: "slack:e1"}})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab2,
		poll(`(document.querySelector("#log-entries li:last-child") || {textContent: ""}).textContent.includes("thanks <b>alice</b>!")`)))
	require.Equal(t, "thanks <b>alice</b>!", text(t, tab2, "#log-entries li:last-child .etext"), "shown as text, not markup")
}

func TestMonitor_screenshot(t *testing.T) {
	if os.Getenv("UPDATE_SCREENSHOT") != "1" {
		t.Skip("set UPDATE_SCREENSHOT=1 to regenerate docs/job-page.png")
	}
	ctx := newChromium(t, 1280, 900)
	f := demoJob(t)
	require.NoError(t, chromedp.Do(ctx,
		signInBrowser(f, "alice"),
		chromedp.Navigate(f.srv.URL+"/jobs/qa-1234"),
		chromedp.WaitVisible(css(`#live-state.on`)),
		chromedp.EmulateViewport(1280, 900),
	))
	wide, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812)))
	narrow, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "job-page.png"), wide, 0o644))
	if out := os.Getenv("SCREENSHOT_NARROW"); out != "" {
		require.NoError(t, os.WriteFile(out, narrow, 0o644))
	}
}

// demoJob builds the job shown in the README screenshot, on a clock that
// moves so that the timeline has something to show.
func demoJob(t *testing.T) *fixture {
	var mu sync.Mutex
	now := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFixtureClock(t, clock)
	ctx := context.Background()
	_, err := f.svc.CreateJob(ctx, f.id("ci"), jobs.ViaAPI, jobs.NewJob{ID: "qa-1234", Name: "Deploy v3.1.0 to production",
		Context: map[string]any{"environment": map[string]any{"name": "production"}, "resource": map[string]any{"name": "node-7"},
			"release": map[string]any{"version": "v3.1.0"}}})
	require.NoError(t, err)
	step(12 * time.Minute)
	_, err = f.svc.Progress(ctx, f.id("ci"), jobs.ViaAPI, "qa-1234", jobs.StatusInProgress, "rolling out")
	require.NoError(t, err)
	step(20 * time.Minute)
	_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1234", jobs.GateConfig{Kind: jobs.KindApproval,
		Name: "Approve production rollout", Assignees: []string{"ops"}, Required: 2})
	require.NoError(t, err)
	step(25 * time.Minute)
	_, _, err = f.svc.Resolve(ctx, f.id("bob"), jobs.ViaSlack, "qa-1234", jobs.Resolution{Action: jobs.ActApprove, Message: "canary looks healthy"})
	require.NoError(t, err)
	step(8 * time.Minute)
	_, _, err = f.svc.Resolve(ctx, f.id("alice"), jobs.ViaWeb, "qa-1234", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	step(40 * time.Minute)
	_, err = f.svc.AppendLog(ctx, "qa-1234", []jobs.LogEntry{{Kind: jobs.LogMessage, Actor: "bob", Via: jobs.ViaSlack,
		Text: "node-7 is throwing disk errors again, I'll open a step for it", Key: "s1"}})
	require.NoError(t, err)
	step(3 * time.Minute)
	_, _, err = f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "qa-1234", jobs.GateConfig{Kind: jobs.KindAction,
		Name: "Swap failed disk on node-7", Assignees: []string{"ops"}, RequireEvidence: true, Timeout: "PT4H",
		Description: "The rollout is **paused** until the disk is replaced.\n\n1. Drain `node-7`\n2. Swap the disk in bay 3\n3. Check the RAID rebuild\n\nRunbook: [disk swap](https://runbooks.example/disk-swap)",
		Checklist:   []string{"Drain node-7", "Swap the disk", "RAID rebuild finished"}})
	require.NoError(t, err)
	step(6 * time.Minute)
	_, _, err = f.svc.ToggleChecklist(ctx, f.id("bob"), jobs.ViaSlack, "qa-1234", 0, true)
	require.NoError(t, err)
	step(4 * time.Minute)
	_, err = f.svc.Annotate(ctx, f.id("bob"), jobs.ViaCLI, "qa-1234", jobs.NewAnnotation{Kind: jobs.AnnotationLog,
		Text: strings.Repeat("smartctl: sector reallocation count 2048 (threshold 36)\n", 30)})
	require.NoError(t, err)
	step(time.Since(clock()))
	return f
}

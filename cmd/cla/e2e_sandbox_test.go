package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// sandboxChromium starts headless Chromium with a fresh profile, or skips
// the test when it is not installed (fails instead when CI=true).
func sandboxChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found: %v", err)
		}
		t.Skip("chromium not installed; apt-get install chromium to run browser tests")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900))
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx))
	ctx, cancelTimeout := context.WithTimeout(ctx, 240*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

type sel = chromedp.CSS

// until waits for a JavaScript expression to be true, across the
// navigations that forms cause (a poll in a page that is being replaced is
// tried again in the new one).
func until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, tg)
			if err == nil {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil || !(strings.Contains(err.Error(), "context") || strings.Contains(err.Error(), "navigated")) {
				body, _ := chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`)(ctx, tg)
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w; the page shows:\n%s", expr, err, body)
			}
		}
	}
}

// press clicks an element, again if a live update replaced it between
// finding and clicking it.
func press(selector string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := chromedp.Click(sel(selector))(ctx, tg)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil ||
				!(strings.Contains(err.Error(), "node") || strings.Contains(err.Error(), "context")) {
				return chromedp.Void{}, err
			}
		}
	}
}

// actAs switches the sandbox person.
func actAs(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		press(`button[data-person="`+name+`"]`),
		chromedp.WaitVisible(sel(`button[data-person="`+name+`"].sk-current`)),
	)
}

// openChannel navigates to a channel and waits for its timeline.
func openChannel(base, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Navigate(base+"/sandbox/c/"+name), chromedp.WaitVisible(sel(`#r-timeline`)))
}

// timelineHas is a JS test that the timeline's text contains s.
func timelineHas(s string) string {
	return `(document.getElementById("r-timeline")||{innerText:""}).innerText.includes(` + jsString(s) + `)`
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestE2E_SandboxBrowser plays the demo as a newcomer would, in real
// Chromium against the real binary with no Slack tokens: alice binds the
// demo channel, carol is refused (and only she sees it), alice and bob
// approve, the evidence modal refuses an empty field and then completes
// the action, the announcement says "Completed by", the web monitor shows
// the same log, and the App Home differs by person.
func TestE2E_SandboxBrowser(t *testing.T) {
	ctx := sandboxChromium(t)
	dir := t.TempDir()
	srv := startServer(t, []string{"SLACK_APP_TOKEN=", "SLACK_BOT_TOKEN="}, "--db", filepath.Join(dir, "cla.db"), "--addr", "127.0.0.1:0")
	wctx, cancel := context.WithTimeout(context.Background(), e2eBudget)
	defer cancel()
	waitFor(t, wctx, func() bool {
		return strings.Contains(srv.logs.String(), "no Slack tokens: using the sandbox Slack at "+srv.url()+"/sandbox")
	})
	code, health := httpGet(t, srv.url()+"/healthz")
	require.Equal(t, 200, code)
	require.Contains(t, health, `"slack":"sandbox"`)
	token, err := os.ReadFile(filepath.Join(dir, "cla.token"))
	require.NoError(t, err)
	tok := strings.TrimSpace(string(token))
	code, demo := api(t, "POST", srv.url()+"/sandbox/api/demo", tok, map[string]any{"bind": false})
	require.Equal(t, 201, code, "%v", demo)
	require.Equal(t, "demo-1", demo["jobId"])
	base := srv.url()
	shots := os.Getenv("SANDBOX_SCREENSHOTS") // a directory: write the README's screenshots there
	shot := func(name string) {
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name), png, 0o644))
	}

	// Sign in like on the monitor; the sandbox opens on #general as alice.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/sandbox"),
		chromedp.WaitVisible(sel(`#token`)),
		chromedp.SendKeys(sel(`#token`), tok),
		press(`form[action="/login"] button[type=submit]`),
		chromedp.WaitVisible(sel(`#composer`)),
		chromedp.WaitVisible(sel(`button[data-person="alice"].sk-current`)),
	))

	// App Home lists the approval for alice (ops), not for carol.
	require.NoError(t, chromedp.Do(ctx,
		press(`#nav-home`),
		chromedp.WaitVisible(sel(`#r-home`)),
		until(`document.getElementById("r-home").innerText.includes("Release v3.1.0 to production")`),
		actAs("carol"),
		chromedp.WaitVisible(sel(`#r-home`)),
		until(`document.getElementById("r-home").innerText.includes("Nothing is waiting on you")`),
	))
	require.NotContains(t, pageText(t, ctx, "#r-home"), "Release v3.1.0")

	// carol clicks Approve: refused, and only she sees why.
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "deploys"),
		chromedp.WaitVisible(sel(`button[data-action="approval_approve"]`)),
		press(`button[data-action="approval_approve"]`),
		until(`[...document.querySelectorAll(".sk-eph")].some(e => e.innerText.includes("Only visible to you"))`),
	))
	shot("sandbox-deploys.png")
	refusal := pageText(t, ctx, ".sk-eph")
	require.Contains(t, refusal, "not an assignee")
	require.NoError(t, chromedp.Do(ctx, actAs("alice"), chromedp.WaitVisible(sel(`button[data-action="approval_approve"]`))))
	require.Equal(t, 0, count(t, ctx, ".sk-eph"), "alice does not see carol's refusal")

	// A slash command answers ephemerally.
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "general"),
		chromedp.SendKeys(sel(`#composer`), "/manual-action help"),
		press(`#send`),
		until(`[...document.querySelectorAll(".sk-eph")].some(e => e.innerText.includes("/manual-action") && e.innerText.includes("show <job>"))`),
	))

	// alice binds the demo channel with @cla add, in #general.
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "general"),
		chromedp.SendKeys(sel(`#composer`), "@cla add #job-demo-1"),
		press(`#send`),
		until(`!!document.querySelector('a[data-channel="job-demo-1"]')`),
	))

	// alice and bob approve in #deploys (two votes).
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "deploys"),
		press(`button[data-action="approval_approve"]`),
		until(timelineHas("Approvals: 1 of 2")),
		actAs("bob"),
		chromedp.WaitVisible(sel(`button[data-action="approval_approve"]`)),
		press(`button[data-action="approval_approve"]`),
		until(timelineHas("Approved by")),
	))

	// The pipeline opens the manual action in #job-demo-1; alice ticks the
	// checklist, then tries to complete with an empty evidence field.
	require.NoError(t, chromedp.Do(ctx,
		actAs("alice"),
		openChannel(base, "job-demo-1"),
		chromedp.WaitVisible(sel(`button[data-action="manual_action_complete"]`)),
		chromedp.SendKeys(sel(`#composer`), "draining node-7 now"),
		press(`#send`),
		until(timelineHas("draining node-7 now")),
	))
	for i := range 3 {
		require.NoError(t, chromedp.Do(ctx,
			press(fmt.Sprintf(`input[name=selected][value="%d"]`, i)),
			until(timelineHas(fmt.Sprintf("Checklist — %d of 3 done", i+1))),
		))
	}
	require.NoError(t, chromedp.Do(ctx,
		press(`button[data-action="manual_action_complete"]`),
		chromedp.WaitVisible(sel(`#modal-submit`)),
		press(`#modal-submit`),
		chromedp.WaitVisible(sel(`.sk-field-error`)),
	))
	require.Contains(t, pageText(t, ctx, ".sk-field-error"), "required")
	shot("sandbox-modal.png")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(sel(`.sk-modal [data-block="evidence_message"] textarea`), "Swapped the disk in bay 3; rebuild at 12%"),
		press(`#modal-submit`),
		until(`!document.querySelector(".sk-modal")`),
		until(timelineHas("Completed by")),
	))
	require.Zero(t, count(t, ctx, `button[data-action="manual_action_complete"]`), "the buttons are gone")
	shot("sandbox-channel.png")

	// The web monitor shows the same job log.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/jobs/demo-1"),
		chromedp.WaitVisible(sel(`#log-entries`)),
		until(`document.getElementById("log-entries").innerText.includes("draining node-7 now")`),
	))
	monitorLog := pageText(t, ctx, "#log-entries")
	require.Contains(t, monitorLog, "Swapped the disk in bay 3")
	require.Contains(t, pageText(t, ctx, "#banner"), "sandbox")
	code, job := api(t, "GET", base+"/v1/jobs/demo-1", tok, nil)
	require.Equal(t, 200, code)
	require.Equal(t, "successful", job["status"])
}

func pageText(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel(selector)))
	require.NoError(t, err)
	return s
}

func count(t *testing.T, ctx context.Context, selector string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(selector)+`).length`))
	require.NoError(t, err)
	return n
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestE2E_SandboxBrowserClicks drives, in real Chromium against the real
// binary with no Slack tokens, what the first browser test leaves out:
// App Home buttons; a button's confirm dialog, cancelled and then
// confirmed; a button inside an ephemeral message (the gate shown by
// "/manual-action show"); a file shared in a job channel that the job
// keeps with its bytes; and a TalkBack run confirmed by a second person,
// with the README's example allowlist.
func TestE2E_SandboxBrowserClicks(t *testing.T) {
	ctx := sandboxChromium(t)
	dir := t.TempDir()
	allow := filepath.Join("..", "..", "examples", "talkback-sandbox.yaml") // the README's
	srv := startServer(t, []string{"SLACK_APP_TOKEN=", "SLACK_BOT_TOKEN="}, "--db", filepath.Join(dir, "cla.db"),
		"--addr", "127.0.0.1:0", "--talkback", allow)
	wctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, wctx, func() bool { return strings.Contains(srv.logs.String(), "using the sandbox Slack") })
	token, err := os.ReadFile(filepath.Join(dir, "cla.token"))
	require.NoError(t, err)
	tok := strings.TrimSpace(string(token))
	base := srv.url()
	code, demo := api(t, "POST", base+"/sandbox/api/demo", tok, map[string]any{"as": "alice"})
	require.Equal(t, 201, code, "%v", demo)
	require.Equal(t, "demo-1", demo["jobId"])

	step := func(name string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		t.Log("step: " + name)
		require.NoError(t, chromedp.Do(ctx, acts...), name)
	}
	step("navigate", chromedp.Navigate(base+"/sandbox"))
	step("token", chromedp.WaitVisible(sel(`#token`)), chromedp.SendKeys(sel(`#token`), tok))
	step("submit", press(`form[action="/login"] button[type=submit]`))
	step("composer", chromedp.WaitVisible(sel(`#composer`)))
	step("home", press(`#nav-home`), chromedp.WaitVisible(sel(`#r-home`)))

	// App Home: alice approves from her Home tab.
	require.NoError(t, chromedp.Do(ctx,
		until(`!!document.querySelector('#r-home button[data-action="approval_approve"]')`),
		press(`#r-home button[data-action="approval_approve"]`),
		until(`["1 of 2", "Nothing is waiting on you"].some(s => document.getElementById("r-home").innerText.includes(s))`),
		openChannel(base, "deploys"),
		until(timelineHas("Approvals: 1 of 2")),
	))

	// A confirm dialog: bob's Reject on his Home tab asks first; he cancels.
	require.NoError(t, chromedp.Do(ctx,
		actAs("bob"),
		press(`#nav-home`),
		chromedp.WaitVisible(sel(`#r-home`)),
		until(`!!document.querySelector('#r-home button[data-action="approval_reject"]')`),
		press(`#r-home button[data-action="approval_reject"]`),
		chromedp.WaitVisible(sel(`#sk-confirm`)),
	))
	require.Equal(t, "Reject?", pageText(t, ctx, "#sk-confirm-title"))
	require.Contains(t, pageText(t, ctx, "#sk-confirm-text"), "The job will not go on")
	require.Equal(t, "Reject", pageText(t, ctx, "#sk-confirm-ok"))
	require.NoError(t, chromedp.Do(ctx,
		press(`#sk-confirm-deny`),
		chromedp.WaitNotVisible(sel(`#sk-confirm`)),
	))

	// A button in an ephemeral message: "/manual-action show" answers bob
	// alone with the gate, and its Approve button is the second vote. The
	// cancelled Reject above sent nothing: the approval passes.
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "deploys"),
		chromedp.SendKeys(sel(`#composer`), "/manual-action show demo-1"),
		press(`#send`),
		until(`!!document.querySelector('.sk-eph button[data-action="approval_approve"]')`),
		press(`.sk-eph button[data-action="approval_approve"]`),
		until(timelineHas("Approved by")),
	))
	code, job := api(t, "GET", base+"/v1/jobs/demo-1", tok, nil)
	require.Equal(t, 200, code)
	require.NotEqual(t, "rejected", job["status"])

	// A file shared in the job channel: the job keeps it with its bytes.
	upload := filepath.Join(dir, "disk-report.txt")
	content := "bay 3: SMART failing\nserial ABC123\n"
	require.NoError(t, os.WriteFile(upload, []byte(content), 0o600))
	require.NoError(t, chromedp.Do(ctx,
		actAs("alice"),
		openChannel(base, "job-demo-1"),
		chromedp.SetUploadFiles(sel(`#file`), []string{upload}),
		chromedp.SendKeys(sel(`#composer`), "the disk report"),
		press(`#send`),
		until(timelineHas("disk-report.txt")),
	))
	var n int
	waitFor(t, wctx, func() bool {
		_, job := api(t, "GET", base+"/v1/jobs/demo-1", tok, nil)
		anns, _ := job["annotations"].([]any)
		for i, a := range anns {
			if a.(map[string]any)["name"] == "disk-report.txt" {
				n = i + 1
			}
		}
		return n > 0
	})
	got, status := download(t, fmt.Sprintf("%s/v1/jobs/demo-1/annotations/%d/content", base, n), tok)
	require.Equal(t, http.StatusOK, status, got)
	require.Equal(t, content, got)

	// TalkBack: alice asks, her own Confirm is refused (only she sees
	// why), bob confirms in the thread and the command runs.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(sel(`#composer`), "@cla run clock"),
		press(`#send`),
		until(`!!document.querySelector('a.sk-replies')`),
		press(`a.sk-replies`),
		until(`!!document.querySelector('#r-thread button[data-action="talkback_confirm"]')`),
		press(`#r-thread button[data-action="talkback_confirm"]`),
		until(`[...document.querySelectorAll(".sk-eph")].some(e => e.innerText.includes("A second person must confirm"))`),
		actAs("bob"),
	))
	if count(t, ctx, `#join`) > 0 {
		require.NoError(t, chromedp.Do(ctx, press(`#join`), chromedp.WaitVisible(sel(`#composer`))))
	}
	require.NoError(t, chromedp.Do(ctx,
		openChannel(base, "job-demo-1"),
		until(`!!document.querySelector('a.sk-replies')`),
		press(`a.sk-replies`),
		until(`!!document.querySelector('#r-thread button[data-action="talkback_confirm"]')`),
		press(`#r-thread button[data-action="talkback_confirm"]`),
		until(`(document.getElementById("r-thread")||{innerText:""}).innerText.includes("confirmed by @bob")`),
	))
	require.Zero(t, count(t, ctx, `.sk-eph`), "bob does not see alice's refusal")
	thread := pageText(t, ctx, "#r-thread")
	require.Contains(t, thread, "✅ Confirmed by @bob")
	require.Contains(t, thread, "requested by @alice, confirmed by @bob")
	require.Contains(t, thread, "exit 0 after")
	require.Regexp(t, `[0-9]{2}:[0-9]{2}:[0-9]{2} UTC [0-9]{4}`, thread, "the command's output: date -u")
	code, log := api(t, "GET", base+"/v1/jobs/demo-1/log", tok, nil)
	require.Equal(t, 200, code)
	finished := false
	for _, e := range log["entries"].([]any) {
		f, _ := e.(map[string]any)["fields"].(map[string]any)
		finished = finished || (f["phase"] == "finished" && f["exit_code"] == "0" && f["approver"] == "bob")
	}
	require.True(t, finished, "the job log records the run bob confirmed: %v", log)

	// A confirm dialog confirmed: a second demo's approval is rejected by
	// alice (who does not see bob's ephemeral copy of the first gate, whose
	// buttons stay as they were, as in Slack).
	code, demo = api(t, "POST", base+"/sandbox/api/demo", tok, map[string]any{"bind": false})
	require.Equal(t, 201, code, "%v", demo)
	require.NoError(t, chromedp.Do(ctx,
		actAs("alice"),
		openChannel(base, "deploys"),
		until(`!!document.querySelector('#r-timeline button[data-action="approval_reject"]')`),
		press(`#r-timeline button[data-action="approval_reject"]`),
		chromedp.WaitVisible(sel(`#sk-confirm`)),
		press(`#sk-confirm-ok`),
		until(timelineHas("Rejected by")),
	))
	code, job = api(t, "GET", base+"/v1/jobs/demo-2", tok, nil)
	require.Equal(t, 200, code)
	require.Equal(t, "rejected", job["status"])
}

// download GETs a URL with a bearer token and returns the body and status.
func download(t *testing.T, url, token string) (string, int) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp.StatusCode
}

package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// ackBot is a Socket Mode client that acks everything and hands over the
// interactive payloads it gets: the bot's side, without the bot.
type ackBot struct {
	api    *slack.Client
	clicks chan slack.InteractionCallback
}

func startAckBot(t *testing.T, emu *slackemu.Emulator) *ackBot {
	t.Helper()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.AppToken()))
	sm := socketmode.New(api, socketmode.OptionLog(log.New(io.Discard, "", 0)))
	b := &ackBot{api: api, clicks: make(chan slack.InteractionCallback, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = sm.RunContext(ctx); done <- struct{}{} }()
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-sm.Events:
				if ev.Request == nil || ev.Request.EnvelopeID == "" {
					continue
				}
				_ = sm.Ack(*ev.Request)
				if cb, ok := ev.Data.(slack.InteractionCallback); ok {
					b.clicks <- cb
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return b
}

// TestPage_ephemeralButtons: a button in an ephemeral message is drawn
// for the one person who sees it and clicks through to the bot as Slack
// sends it; anyone else's click on it changes nothing.
func TestPage_ephemeralButtons(t *testing.T) {
	f := newPageFixture(t)
	bot := startAckBot(t, f.emu)
	general := f.general()
	ts, err := bot.api.PostEphemeral(general.ID, "USBXALICE1", slack.MsgOptionText("confirm?", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("tb", slack.NewButtonBlockElement("talkback_confirm", "req-1",
			slack.NewTextBlockObject("plain_text", "Confirm and run", false, false)))))
	require.NoError(t, err)

	_, page, _ := f.do("GET", "/sandbox/c/general", nil, false)
	require.Contains(t, page, `data-ephemeral="1"`)
	require.Contains(t, page, `<input type="hidden" name="ts" value="`+ts+`">`, "the button names its ephemeral")
	require.Contains(t, page, "Confirm and run")
	asBob := &http.Cookie{Name: asCookie, Value: "bob"}
	_, page, _ = f.do("GET", "/sandbox/c/general", nil, false, asBob)
	require.NotContains(t, page, "Confirm and run", "only alice sees it")

	click := url.Values{"csrf": {testCSRF}, "channel": {general.ID}, "ts": {ts}, "block_id": {"tb"}, "action_id": {"talkback_confirm"}}
	code, page, _ := f.do("POST", "/sandbox/act", click, false, asBob)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, page, "did not go through")
	code, _, _ = f.do("POST", "/sandbox/act", click, false)
	require.Equal(t, http.StatusSeeOther, code)
	select {
	case cb := <-bot.clicks:
		require.Equal(t, "USBXALICE1", cb.User.ID)
		require.True(t, cb.Container.IsEphemeral)
		require.Equal(t, ts, cb.Container.MessageTs)
		require.Equal(t, "req-1", cb.ActionCallback.BlockActions[0].Value)
		require.NotEmpty(t, cb.ResponseURL)
	case <-time.After(60 * time.Second):
		t.Fatal("the bot got no click")
	}
	require.Empty(t, bot.clicks, "bob's click never reached the bot")
}

// TestPage_fileBytes: an uploaded file's bytes reach the bot's download
// (bot token) and are kept in the data directory; Run removes the
// temporary files of an unfinished save at start and leaves none at the end.
func TestPage_fileBytes(t *testing.T) {
	f := newPageFixture(t)
	state := f.page.cfg.StatePath
	stale := filepath.Join(filepath.Dir(state), "."+filepath.Base(state)+".tmp-42")
	require.NoError(t, os.WriteFile(stale, []byte("{half"), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.page.Run(ctx) }()

	require.Equal(t, http.StatusSeeOther, f.upload("notes.txt", "line one\nline two\n"))
	msgs := f.emu.Messages(f.general().ID)
	file := msgs[len(msgs)-1].Files[0]
	code, body := botDownload(t, f.emu, file.ID)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "line one\nline two\n", body)

	// People download it from the page, as an attachment only.
	_, page, _ := f.do("GET", "/sandbox/c/general", nil, false)
	require.Contains(t, page, `href="/sandbox/files/`+file.ID+`"`)
	code, dl, h := f.do("GET", "/sandbox/files/"+file.ID, nil, false)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "line one\nline two\n", dl)
	require.Equal(t, `attachment; filename=notes.txt`, h.Get("Content-Disposition"))
	require.Equal(t, "application/octet-stream", h.Get("Content-Type"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	code, _, _ = f.do("GET", "/sandbox/files/"+file.ID, nil, true)
	require.Equal(t, http.StatusSeeOther, code, "signed-in people only")
	code, dl, _ = f.do("GET", "/sandbox/files/F0000NOPE", nil, false)
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, dl, "keeps no bytes of that file")

	kept := filepath.Join(slackemu.FilesDir(state), file.ID)
	require.Eventually(t, func() bool {
		_, errStale := os.Stat(stale)
		b, errKept := os.ReadFile(kept)
		return os.IsNotExist(errStale) && errKept == nil && string(b) == "line one\nline two\n"
	}, 60*time.Second, 20*time.Millisecond, "the stale temporary file is removed and the bytes are kept")
	cancel()
	require.NoError(t, <-done)
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(state), ".*.tmp-*"))
	require.Empty(t, left)
	restored := slackemu.NewTest(t, slackemu.Config{})
	_, err := restored.LoadFile(state)
	require.NoError(t, err)
	require.Len(t, restored.Messages(f.general().ID), len(msgs))
	got, ok := restored.Message(f.general().ID, msgs[len(msgs)-1].TS)
	require.True(t, ok)
	require.Equal(t, file.ID, got.Files[0].ID)
	code, body = botDownload(t, restored, file.ID)
	require.Equal(t, http.StatusOK, code, "the bytes survive a restart")
	require.Equal(t, "line one\nline two\n", body)
}

// botDownload fetches a file's url_private_download as the bot does.
func botDownload(t *testing.T, emu *slackemu.Emulator, id string) (int, string) {
	t.Helper()
	var info struct {
		File struct {
			URL string `json:"url_private_download"`
		} `json:"file"`
	}
	resp, err := http.PostForm(emu.APIURL()+"files.info", url.Values{"token": {emu.BotToken()}, "file": {id}})
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	resp.Body.Close()
	req, err := http.NewRequest("GET", info.File.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+emu.BotToken())
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPage_RunSavesEveryChange: a change made before Run starts is saved at
// its start, and a change made while a burst settles is saved after it
// (Run used to wait for the next change for both: a message posted right
// before the start, or during the settle, was not on disk).
func TestPage_RunSavesEveryChange(t *testing.T) {
	f := newPageFixture(t)
	state := f.page.cfg.StatePath
	general := f.general()
	// The snapshot is read as bytes: LoadFile removes a save's temporary
	// files (it is for the start), which would break the saves under test.
	saved := func(text string) func() bool {
		return func() bool {
			data, err := os.ReadFile(state)
			return err == nil && bytes.Contains(data, []byte(strconv.Quote(text)))
		}
	}
	post := func(text string) {
		_, err := f.emu.PostMessage("USBXALICE1", general.ID, text)
		require.NoError(t, err)
	}
	post("before the start")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.page.Run(ctx) }()
	require.Eventually(t, saved("before the start"), 60*time.Second, 20*time.Millisecond, "a change made before Run started")

	post("first of a burst")
	require.Eventually(t, saved("first of a burst"), 60*time.Second, 20*time.Millisecond)
	post("while it settles") // SaveEvery (1 s) has just begun
	require.Eventually(t, saved("while it settles"), 60*time.Second, 20*time.Millisecond, "a change made during the settle")
	cancel()
	require.NoError(t, <-done)
}

// TestPage_eventsAfterOpen: a change made as soon as the stream's headers
// arrive (when the browser re-reads the page) is announced. The stream
// takes its change signal before it answers; it used to take it after, a
// window too narrow for this test to hit, found by reading.
func TestPage_eventsAfterOpen(t *testing.T) {
	f := newPageFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/sandbox/events", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "signed-in", Value: "1"})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = f.emu.PostMessage("USBXALICE1", f.general().ID, "right after open")
	require.NoError(t, err)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "event: changed" {
			return
		}
	}
	t.Fatalf("no changed event within 60s: %v", sc.Err())
}

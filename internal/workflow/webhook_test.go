package workflow

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/webhooksig"
	"github.com/stretchr/testify/require"
)

// hook records the requests it gets and answers with status.
type hook struct {
	status int
	got    chan *http.Request
	bodies chan []byte
}

func newHook(t *testing.T, status int) (*hook, string) {
	h := &hook{status: status, got: make(chan *http.Request, 4), bodies: make(chan []byte, 4)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.got <- r
		h.bodies <- body
		w.WriteHeader(h.status)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func TestRun_WebhookStep(t *testing.T) {
	t.Run("signed", func(t *testing.T) {
		h, url := newHook(t, http.StatusOK)
		f := newFixture(t, `
name: hooks
steps:
  - {id: v, type: shell, config: {command: "echo 2.0"}}
  - id: call
    type: webhook
    depends_on: [v]
    config: {url: "`+url+`/deploy", secret: s3cret, headers: {X-Env: prod}, body: {version: "{{steps.v.output}}", n: 1}}
`)
		code, out, _ := f.run()
		require.Equal(t, ExitDone, code, out)
		req, body := recv(t, h.got), recv(t, h.bodies)
		require.JSONEq(t, `{"version": "2.0", "n": 1}`, string(body))
		require.Equal(t, "prod", req.Header.Get("X-Env"))
		require.NoError(t, webhooksig.Verify(req.Header, []byte("s3cret"), body, time.Now(), time.Hour),
			"signed as the server signs notifications")
		require.ErrorIs(t, webhooksig.Verify(req.Header, []byte("other"), body, time.Now(), time.Hour), webhooksig.ErrSignature)
	})
	t.Run("error status fails", func(t *testing.T) {
		_, url := newHook(t, http.StatusTeapot)
		f := newFixture(t, "name: h\nsteps:\n  - {id: call, type: webhook, config: {url: \""+url+"\"}}\n")
		code, out, _ := f.run()
		require.Equal(t, ExitFailed, code)
		require.Contains(t, out, "answered 418")
	})
}

func TestRun_SlackWebhook(t *testing.T) {
	h, url := newHook(t, http.StatusOK)
	f := newFixture(t, `
name: slacky
steps:
  - id: tell
    type: slack.notify
    config: {webhook_url: "`+url+`", text: "Deploy done", link_url: "http://127.0.0.1/jobs/x", link_text: View}
`)
	code, out, _ := f.run()
	require.Equal(t, ExitDone, code, out)
	recv(t, h.got)
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string `json:"type"`
			Elements []struct {
				URL  string                `json:"url"`
				Text struct{ Text string } `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(recv(t, h.bodies), &msg))
	require.Equal(t, "Deploy done", msg.Text)
	require.Len(t, msg.Blocks, 2)
	require.Equal(t, "section", msg.Blocks[0].Type)
	require.Equal(t, "actions", msg.Blocks[1].Type)
	require.Equal(t, "http://127.0.0.1/jobs/x", msg.Blocks[1].Elements[0].URL)
	require.Equal(t, "View", msg.Blocks[1].Elements[0].Text.Text)
}

package bot

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// annotations waits until the job has n annotations and returns them.
func (h *harness) annotations(id string, n int) []jobs.AnnotationRef {
	h.t.Helper()
	var refs []jobs.AnnotationRef
	h.waitFor("annotations", func() bool {
		j, err := h.svc.GetJob(context.Background(), id)
		require.NoError(h.t, err)
		refs = j.Annotations
		return len(refs) >= n
	})
	return refs
}

// TestBot_KeepsSharedFiles: a file shared in a bound channel is downloaded
// with the bot token and kept whole; its bytes come back from the service.
func TestBot_KeepsSharedFiles(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-80")
	h.stop()
	h.start()
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	_, _, err := h.emu.ShareFile(h.bob.ID, ch.ID, slackemu.File{Name: "disk.png", Content: png}, "the failed disk")
	require.NoError(t, err)
	refs := h.annotations("qa-80", 1)
	require.Equal(t, jobs.AnnotationFile, refs[0].Kind)
	require.Equal(t, "disk.png", refs[0].Name)
	require.True(t, refs[0].Stored)
	require.Equal(t, "image/png", refs[0].ContentType)
	require.Equal(t, jobs.ViaSlack, refs[0].Via)
	ref, content, err := h.svc.AnnotationContent(context.Background(), "qa-80", 1)
	require.NoError(t, err)
	require.Equal(t, png, content)
	require.Equal(t, len(png), ref.Size)
	msgs := h.messages("qa-80")
	require.Len(t, msgs, 1, "the share itself is one log entry")
	require.Equal(t, "the failed disk", msgs[0].Text)
	require.Equal(t, "disk.png", msgs[0].Fields["file.1.name"])

	_, _, err = h.svc.AnnotationContent(context.Background(), "qa-80", 2)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "unknown annotation number")
}

// TestBot_SharedFileOverCap: a file over the cap is kept as metadata and
// a permalink, and the log says why.
func TestBot_SharedFileOverCap(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	h.stop()
	h.svc = jobs.NewService(h.db, jobs.NewBroker(), jobs.Options{MaxChatFileBytes: 64})
	ch := h.bound("qa-81")
	h.start()
	f, _, err := h.emu.ShareFile(h.alice.ID, ch.ID, slackemu.File{Name: "huge.log", Content: []byte(strings.Repeat("line\n", 40))}, "")
	require.NoError(t, err)
	refs := h.annotations("qa-81", 1)
	require.False(t, refs[0].Stored)
	require.Equal(t, 200, refs[0].Size)
	require.NotEmpty(t, refs[0].Permalink)
	require.Contains(t, refs[0].Preview, "huge.log is 200 B, over the 64 B cap for files from Slack")
	_, _, err = h.svc.AnnotationContent(context.Background(), "qa-81", 1)
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
	require.Contains(t, jobs.ErrorMessage(err), "kept only the file's metadata")
	require.Equal(t, f.Name, refs[0].Name)
}

// stripAuth drops the Authorization header, as a proxy or a cross-host
// redirect would: Slack then answers with its sign-in page.
type stripAuth struct{}

func (stripAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return http.DefaultTransport.RoundTrip(r)
}

// TestBot_SharedFileRefused: Slack's HTML sign-in page (status 200) is
// detected; the failure is recorded and the page is never stored.
func TestBot_SharedFileRefused(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-82")
	h.stop()
	h.botHTTP = &http.Client{Transport: stripAuth{}}
	h.start()
	_, _, err := h.emu.ShareFile(h.bob.ID, ch.ID, slackemu.File{Name: "notes.txt", Content: []byte("abc")}, "")
	require.NoError(t, err)
	refs := h.annotations("qa-82", 1)
	require.False(t, refs[0].Stored)
	require.Contains(t, refs[0].Preview, "could not be downloaded from Slack: slack answered with its sign-in page")
	_, content, err := h.svc.AnnotationContent(context.Background(), "qa-82", 1)
	require.Error(t, err, "the sign-in page is never stored")
	require.NotContains(t, string(content), "Sign in")
}

func TestSignInPage(t *testing.T) {
	cases := []struct {
		name, ctype, mime, body string
		want                    bool
	}{
		{"html for a png", "text/html; charset=utf-8", "image/png", "<!DOCTYPE html><title>Slack</title>", true},
		{"doctype without header", "application/octet-stream", "text/plain", "<!doctype html>\n<html>", true},
		{"the file", "image/png", "image/png", "\x89PNG", false},
		{"an html file", "text/html", "text/html", "<html><p>release notes</p></html>", false},
		{"slack's page for an html file", "text/html", "text/html", "<!DOCTYPE html><h1>Sign in to Slack</h1>", true},
		{"empty", "text/plain", "text/plain", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, signInPage(tc.ctype, tc.mime, []byte(tc.body)))
		})
	}
}

// TestBot_MirrorsReadableText: Slack's escapes and mentions are stored as
// people wrote them, with the raw text kept.
func TestBot_MirrorsReadableText(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-83")
	h.stop()
	h.start()
	raw := "restart &lt;api&gt; &amp; check with <@" + h.bob.ID + ">"
	_, err := h.emu.Post(slackemu.HumanMessage{User: h.alice.ID, Channel: ch.ID, Text: raw, Verbatim: true})
	require.NoError(t, err)
	h.waitFor("mirrored", func() bool { return len(h.messages("qa-83")) == 1 })
	e := h.messages("qa-83")[0]
	require.Equal(t, "restart <api> & check with @bob", e.Text)
	require.Equal(t, raw, e.Fields["raw"])
}

// TestBot_NothingTwice: what cla posts into a bound channel (a relayed
// API comment) is not mirrored back; a person's and another app's
// messages are.
func TestBot_NothingTwice(t *testing.T) {
	h := newHarness(t, slackemu.Config{})
	ch := h.bound("qa-84")
	h.stop()
	h.start()
	_, err := h.svc.Annotate(context.Background(), jobs.Identity{Name: "ci"}, jobs.ViaAPI, "qa-84",
		jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "deploying <v2> & friends"})
	require.NoError(t, err)
	_, err = h.emu.WaitMessage(h.ctx(), ch.ID, func(m slackemu.Message) bool { return strings.Contains(m.Text, "deploying") })
	require.NoError(t, err)
	_, err = h.emu.PostMessage(h.bob.ID, ch.ID, "seen")
	require.NoError(t, err)
	h.waitFor("bob mirrored", func() bool { return len(h.messages("qa-84")) >= 1 })
	h.idle()
	msgs := h.messages("qa-84")
	require.Len(t, msgs, 1, "only bob's message is mirrored: %+v", msgs)
	require.Equal(t, "seen", msgs[0].Text)
	entries, err := h.svc.Log(context.Background(), "qa-84", 0, 100)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if strings.Contains(e.Text, "deploying") {
			n++
			require.Equal(t, "deploying <v2> & friends", e.Text)
		}
	}
	require.Equal(t, 1, n, "the API comment is in the log once")
}

func TestBot_OwnMessage(t *testing.T) {
	b := &Bot{}
	b.self.userID, b.self.botID = "U0CLA", "B0CLA"
	cases := []struct {
		name string
		in   Incoming
		want bool
	}{
		{"bot user", Incoming{User: "U0CLA"}, true},
		{"bot id", Incoming{BotID: "B0CLA"}, true},
		{"own app before auth.test", Incoming{BotID: "B0NEW", AppID: "A1", OwnApp: "A1"}, true},
		{"another app", Incoming{BotID: "B0OTHER", AppID: "A2", OwnApp: "A1"}, false},
		{"a person", Incoming{User: "U0BOB", OwnApp: "A1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, b.ownMessage(&tc.in)) })
	}
}

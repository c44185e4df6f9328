package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

const testCSRF = "csrf-token-for-tests"

// pageFixture is the page over a real emulator and a real bbolt store,
// with a stand-in for the monitor's sign-in: a request is signed in when
// it carries the "signed-in" cookie.
type pageFixture struct {
	t    *testing.T
	emu  *slackemu.Emulator
	svc  *jobs.Service
	page *Page
	srv  *httptest.Server
}

func newPageFixture(t *testing.T) *pageFixture {
	t.Helper()
	emu := slackemu.NewTest(t, slackemu.Config{})
	Seed(emu)
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	session := func(r *http.Request) (jobs.Identity, string, bool) {
		if _, err := r.Cookie("signed-in"); err != nil {
			return jobs.Identity{}, "", false
		}
		return jobs.Identity{Name: "admin", Admin: true}, testCSRF, true
	}
	p, err := New(Config{Emulator: emu, Service: svc, Session: session,
		Authenticate: func(tok string) (jobs.Identity, bool) { return jobs.Identity{Name: "ci"}, tok == "tok-ci" },
		StatePath:    filepath.Join(t.TempDir(), "cla.sandbox.json")})
	require.NoError(t, err)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(p.Close)
	return &pageFixture{t: t, emu: emu, svc: svc, page: p, srv: srv}
}

// do sends a request, signed in unless anon, without following redirects.
func (f *pageFixture) do(method, path string, form url.Values, anon bool, cookies ...*http.Cookie) (int, string, http.Header) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	require.NoError(f.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if !anon {
		req.AddCookie(&http.Cookie{Name: "signed-in", Value: "1"})
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// upload shares a file in #general with a multipart form.
func (f *pageFixture) upload(name, content string) int {
	f.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(f.t, mw.WriteField("csrf", testCSRF))
	require.NoError(f.t, mw.WriteField("text", "see the file"))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(f.t, err)
	_, _ = fw.Write([]byte(content))
	require.NoError(f.t, mw.Close())
	req, err := http.NewRequest("POST", f.srv.URL+"/sandbox/c/general/post", &buf)
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "signed-in", Value: "1"})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(f.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (f *pageFixture) general() slackemu.Channel {
	c, ok := f.emu.ChannelByName(ChannelGeneral)
	require.True(f.t, ok)
	return c
}

func TestPage_signIn(t *testing.T) {
	f := newPageFixture(t)
	code, _, h := f.do("GET", "/sandbox/c/general", nil, true)
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/login?next=%2Fsandbox%2Fc%2Fgeneral", h.Get("Location"))
	code, _, _ = f.do("GET", "/sandbox/events", nil, true)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = f.do("POST", "/sandbox/c/general/post", url.Values{"csrf": {testCSRF}, "text": {"hi"}}, true)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Empty(t, f.emu.Messages(f.general().ID))

	code, page, h := f.do("GET", "/sandbox/c/general", nil, false)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, h.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, page, `data-person="alice" aria-pressed="true"`)
}

func TestPage_post(t *testing.T) {
	f := newPageFixture(t)
	csrf := url.Values{"csrf": {testCSRF}}
	with := func(kv ...string) url.Values {
		v := url.Values{"csrf": {testCSRF}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	asBob := &http.Cookie{Name: asCookie, Value: "bob"}

	code, _, _ := f.do("POST", "/sandbox/c/general/post", with("text", "hello <b>world</b> *bold*"), false)
	require.Equal(t, http.StatusSeeOther, code)
	msgs := f.emu.Messages(f.general().ID)
	require.Len(t, msgs, 1)
	require.Equal(t, "USBXALICE1", msgs[0].User)
	_, page, _ := f.do("GET", "/sandbox/c/general", nil, false)
	require.Contains(t, page, "hello &lt;b&gt;world&lt;/b&gt; <b>bold</b>", "typed HTML is text, mrkdwn applies")

	for _, tc := range []struct {
		name    string
		path    string
		form    url.Values
		cookies []*http.Cookie
		code    int
		says    string
	}{
		{"no csrf", "/sandbox/c/general/post", url.Values{"text": {"forged"}}, nil, 403, "did not come from this site"},
		{"wrong csrf", "/sandbox/c/general/post", url.Values{"csrf": {"x"}, "text": {"forged"}}, nil, 403, "did not come from this site"},
		{"huge message", "/sandbox/c/general/post", with("text", strings.Repeat("é", MaxMessageRunes+1)), nil, 413, "Nothing was posted"},
		{"huge form", "/sandbox/c/general/post", with("text", strings.Repeat("x", maxFormBytes+1)), nil, 413, "too large"},
		{"no such channel", "/sandbox/c/nope/post", with("text", "x"), nil, 404, "no channel #nope"},
		{"unknown command", "/sandbox/c/general/post", with("text", "/deploy now"), nil, 400, "/deploy is not a valid command"},
		{"unknown person", "/sandbox/as", with("user", "mallory"), nil, 400, "no sandbox person called “mallory”"},
		{"edit by another", "/sandbox/c/general/edit", with("ts", msgs[0].TS, "text", "mine now"), []*http.Cookie{asBob}, 403, "Only its author"},
		{"delete by another", "/sandbox/c/general/delete", with("ts", msgs[0].TS), []*http.Cookie{asBob}, 403, "Only its author"},
		{"edit to empty", "/sandbox/c/general/edit", with("ts", msgs[0].TS, "text", " "), nil, 400, "between 1 and 40,000"},
		{"click on nothing", "/sandbox/act", csrf, nil, 400, "names no element"},
		{"click on a missing element", "/sandbox/act", with("channel", f.general().ID, "ts", msgs[0].TS, "action_id", "approval_approve"), nil, 400, "did not go through"},
		{"submit no modal", "/sandbox/views/V1/submit", csrf, nil, 404, "not open for alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, page, _ := f.do("POST", tc.path, tc.form, false, tc.cookies...)
			require.Equal(t, tc.code, code)
			require.Contains(t, page, tc.says)
			require.Len(t, f.emu.Messages(f.general().ID), 1, "nothing changed")
			m, _ := f.emu.Message(f.general().ID, msgs[0].TS)
			require.Equal(t, msgs[0].Text, m.Text)
		})
	}

	// The author edits, replies in the thread, shares a file, deletes.
	code, _, _ = f.do("POST", "/sandbox/c/general/edit", with("ts", msgs[0].TS, "text", "hello again"), false)
	require.Equal(t, http.StatusSeeOther, code)
	m, _ := f.emu.Message(f.general().ID, msgs[0].TS)
	require.Equal(t, "hello again", m.Text)
	code, _, h := f.do("POST", "/sandbox/c/general/post", with("text", "a reply", "thread", msgs[0].TS), false, asBob)
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/sandbox/c/general?thread="+url.QueryEscape(msgs[0].TS), h.Get("Location"))
	_, page, _ = f.do("GET", "/sandbox/c/general?thread="+url.QueryEscape(msgs[0].TS), nil, false)
	require.Contains(t, page, "1 reply")
	require.Contains(t, page, "a reply")
	code = f.upload("notes.txt", strings.Repeat("n", 1234))
	require.Equal(t, http.StatusSeeOther, code)
	all := f.emu.Messages(f.general().ID)
	shared := all[len(all)-1]
	require.Equal(t, "file_share", shared.Subtype)
	require.Equal(t, "notes.txt", shared.Files[0].Name)
	require.Equal(t, 1234, shared.Files[0].Size)
	require.Equal(t, http.StatusBadRequest, f.upload("big.bin", strings.Repeat("b", DefaultMaxFileBytes+1)))
	require.Len(t, f.emu.Messages(f.general().ID), len(all), "a file over the cap is not shared")
	code, _, _ = f.do("POST", "/sandbox/c/general/delete", with("ts", msgs[0].TS), false)
	require.Equal(t, http.StatusSeeOther, code)
	m, _ = f.emu.Message(f.general().ID, msgs[0].TS)
	require.True(t, m.Deleted)
}

func TestPage_actAs(t *testing.T) {
	f := newPageFixture(t)
	code, _, h := f.do("POST", "/sandbox/as", url.Values{"csrf": {testCSRF}, "user": {"carol"}, "back": {"//evil.example/x"}}, false)
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/sandbox/c/general", h.Get("Location"), "back stays on the sandbox")
	var as *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == asCookie {
			as = c
		}
	}
	require.NotNil(t, as)
	require.Equal(t, "carol", as.Value)
	require.True(t, as.HttpOnly)
	_, page, _ := f.do("GET", "/sandbox/c/general", nil, false, as)
	require.Contains(t, page, `data-person="carol" aria-pressed="true"`)
	// A tampered cookie is ignored: alice.
	_, page, _ = f.do("GET", "/sandbox/c/general", nil, false, &http.Cookie{Name: asCookie, Value: "<script>"})
	require.Contains(t, page, `data-person="alice" aria-pressed="true"`)
}

func TestPage_apiDemo(t *testing.T) {
	f := newPageFixture(t)
	post := func(token, body string) (int, map[string]string) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/sandbox/api/demo", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post("", "{}")
	require.Equal(t, 401, code)
	require.Equal(t, "unauthorized", out["code"])
	code, _ = post("wrong", "{}")
	require.Equal(t, 401, code)
	code, out = post("tok-ci", `{"as":"mallory"}`)
	require.Equal(t, 400, code)
	require.Contains(t, out["error"], "no sandbox person mallory")
	code, _ = post("tok-ci", `not json`)
	require.Equal(t, 400, code)
	_, err := f.svc.GetJob(context.Background(), "demo-1")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "nothing was created")

	code, out = post("tok-ci", `{"bind":false}`)
	require.Equal(t, 201, code, out)
	require.Equal(t, "demo-1", out["jobId"])
	job, err := f.svc.GetJob(context.Background(), "demo-1")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusAwaitingApproval, job.Status)
	g := job.OpenGate()
	require.Equal(t, 2, g.Required)
	require.Equal(t, []string{"ops"}, g.Assignees)
	code, out = post("tok-ci", `{}`)
	require.Equal(t, 201, code)
	require.Equal(t, "demo-2", out["jobId"])
	msgs := f.emu.Messages(f.general().ID)
	require.NotEmpty(t, msgs)
	require.Equal(t, "<@"+f.emu.BotUserID()+"> add #job-demo-2", msgs[len(msgs)-1].Text, "alice binds it through the emulator")
}

package slackemu

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apiError is a Slack error answer: HTTP 200 with {"ok":false,"error":code}
// plus optional extra fields (needed/provided, response_metadata, …).
type apiError struct {
	code  string
	extra obj
}

// Error implements error.
func (e *apiError) Error() string { return e.code }

// slackErr builds an apiError.
func slackErr(code string) error { return &apiError{code: code} }

// handler serves one Web API method; it runs with e.mu held.
type handler func(e *Emulator, a *args) (obj, error)

// method describes one emulated Web API method.
type method struct {
	h        handler
	scope    string // needed scope for public channels / default
	appToken bool   // authenticated with the app-level token
}

// methods is the table of emulated Web API methods.
var methods = map[string]method{
	"apps.connections.open": {h: (*Emulator).appsConnectionsOpen, scope: "connections:write", appToken: true},
	"auth.test":             {h: (*Emulator).authTest},
	"chat.postMessage":      {h: (*Emulator).chatPostMessage, scope: "chat:write"},
	"chat.update":           {h: (*Emulator).chatUpdate, scope: "chat:write"},
	"chat.postEphemeral":    {h: (*Emulator).chatPostEphemeral, scope: "chat:write"},
	"chat.delete":           {h: (*Emulator).chatDelete, scope: "chat:write"},
	"chat.getPermalink":     {h: (*Emulator).chatGetPermalink},
	"conversations.create":  {h: (*Emulator).conversationsCreate, scope: "channels:manage"},
	"conversations.join":    {h: (*Emulator).conversationsJoin, scope: "channels:join"},
	"conversations.invite":  {h: (*Emulator).conversationsInvite, scope: "channels:manage"},
	"conversations.info":    {h: (*Emulator).conversationsInfo, scope: "channels:read"},
	"conversations.list":    {h: (*Emulator).conversationsList, scope: "channels:read"},
	"conversations.history": {h: (*Emulator).conversationsHistory, scope: "channels:history"},
	"conversations.replies": {h: (*Emulator).conversationsReplies, scope: "channels:history"},
	"users.info":            {h: (*Emulator).usersInfo, scope: "users:read"},
	"users.lookupByEmail":   {h: (*Emulator).usersLookupByEmail, scope: "users:read.email"},
	"usergroups.list":       {h: (*Emulator).usergroupsList, scope: "usergroups:read"},
	"usergroups.users.list": {h: (*Emulator).usergroupsUsersList, scope: "usergroups:read"},
	"views.open":            {h: (*Emulator).viewsOpen},
	"views.update":          {h: (*Emulator).viewsUpdate},
	"views.publish":         {h: (*Emulator).viewsPublish},
	"files.info":            {h: (*Emulator).filesInfo, scope: "files:read"},
	"conversations.members": {h: (*Emulator).conversationsMembers, scope: "channels:read"},
}

// DefaultScopes are the bot scopes granted when Config.Scopes is nil: every
// scope the emulated methods need, except chat:write.public.
func DefaultScopes() []string {
	return []string{
		"app_mentions:read", "channels:history", "channels:join", "channels:manage",
		"channels:read", "chat:write", "commands", "files:read", "groups:history",
		"groups:read", "groups:write", "im:write", "usergroups:read", "users:read",
		"users:read.email",
	}
}

// serveAPI answers one Web API call the way Slack's Web API does.
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	a, perr := parseArgs(r)
	call := Call{Method: name, At: time.Now()}
	if a != nil {
		call.Params, call.Body, call.Args = a.form, a.body, a.flat()
	}
	status, body, hdr := e.answer(r, name, a, perr)
	call.Status = status
	call.Response = body
	if status == http.StatusOK {
		var res struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &res)
		call.Error = res.Error
	}
	e.mu.Lock()
	e.calls = append(e.calls, call)
	e.notifyLocked()
	e.mu.Unlock()
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// answer computes status, body and headers for one call: faults first, then
// auth, scopes and the method itself.
func (e *Emulator) answer(r *http.Request, name string, a *args, perr error) (int, []byte, http.Header) {
	hdr := http.Header{}
	f := e.takeFault(name)
	if f != nil && f.Applied != nil {
		select {
		case f.Applied <- name:
		default:
		}
	}
	if f != nil && f.AfterEffect {
		st, body, hdr := e.answerMethod(name, a, perr)
		if st, fbody, ok := f.apply(r.Context(), hdr); ok {
			return st, fbody, hdr
		}
		return st, body, hdr
	}
	if f != nil {
		if st, body, ok := f.apply(r.Context(), hdr); ok {
			return st, body, hdr
		}
	}
	return e.answerMethod(name, a, perr)
}

// answerMethod answers one call after any fault: auth, scopes, rate
// limits and the method itself.
func (e *Emulator) answerMethod(name string, a *args, perr error) (int, []byte, http.Header) {
	hdr := http.Header{}
	m, ok := methods[name]
	if !ok {
		return http.StatusOK, errBody("unknown_method", nil), hdr
	}
	if perr != nil {
		return http.StatusOK, errBody(perr.Error(), nil), hdr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return http.StatusServiceUnavailable, []byte("closed"), hdr
	}
	if err := e.authorize(m, a); err != nil {
		return http.StatusOK, errorBody(err), hdr
	}
	if wait := e.rateLimitedLocked(name, a); wait > 0 {
		st, body := rateLimitedAnswer(wait, hdr)
		return st, body, hdr
	}
	if !m.appToken {
		hdr.Set("X-OAuth-Scopes", strings.Join(e.cfg.Scopes, ","))
		hdr.Set("X-Accepted-OAuth-Scopes", m.scope)
	}
	res, err := m.h(e, a)
	if err != nil {
		return http.StatusOK, errorBody(err), hdr
	}
	res["ok"] = true
	body, _ := json.Marshal(res)
	return http.StatusOK, body, hdr
}

// authorize checks the token kind and the method's scope.
func (e *Emulator) authorize(m method, a *args) error {
	if a.token == "" {
		return slackErr("not_authed")
	}
	want, other := e.cfg.BotToken, e.cfg.AppToken
	if m.appToken {
		want, other = other, want
	}
	switch a.token {
	case want:
	case other:
		return slackErr("not_allowed_token_type")
	default:
		return slackErr("invalid_auth")
	}
	if m.appToken {
		return nil
	}
	return e.needScope(m.scope)
}

// needScope answers missing_scope unless the bot token holds scope.
func (e *Emulator) needScope(scope string) error {
	if scope == "" || e.scopes[scope] {
		return nil
	}
	return &apiError{code: "missing_scope", extra: obj{
		"needed": scope, "provided": strings.Join(e.cfg.Scopes, ","),
	}}
}

// errorBody renders an error as Slack's JSON error shape.
func errorBody(err error) []byte {
	if ae, ok := err.(*apiError); ok {
		return errBody(ae.code, ae.extra)
	}
	return errBody("internal_error", nil)
}

// errBody renders {"ok":false,"error":code,...extra}.
func errBody(code string, extra obj) []byte {
	o := obj{"ok": false, "error": code}
	for k, v := range extra {
		o[k] = v
	}
	b, _ := json.Marshal(o)
	return b
}

// args are a call's arguments from the query string, a form body or a JSON
// body, unified so a handler need not care how the client encoded them.
type args struct {
	vals  map[string]json.RawMessage
	form  url.Values
	body  json.RawMessage
	token string
}

// parseArgs reads the request's arguments and token. The returned error is a
// Slack error code (invalid_form_data, invalid_json, …).
func parseArgs(r *http.Request) (*args, error) {
	a := &args{vals: map[string]json.RawMessage{}, form: url.Values{}}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return a, slackErr("request_timeout")
	}
	for k, v := range r.URL.Query() {
		a.form[k] = v
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case len(raw) == 0:
	case ct == "application/json":
		if err := a.parseJSON(raw); err != nil {
			return a, err
		}
	case ct == "application/x-www-form-urlencoded" || ct == "" || ct == "text/plain":
		q, err := url.ParseQuery(string(raw))
		if err != nil {
			return a, slackErr("invalid_form_data")
		}
		for k, v := range q {
			a.form[k] = append(a.form[k], v...)
		}
	default:
		return a, slackErr("invalid_post_type")
	}
	for k := range a.form {
		if _, ok := a.vals[k]; !ok {
			s, _ := json.Marshal(a.form.Get(k))
			a.vals[k] = s
		}
	}
	a.token = bearer(r.Header.Get("Authorization"))
	if a.token == "" {
		a.token = a.str("token")
	}
	return a, nil
}

// parseJSON takes a JSON object body.
func (a *args) parseJSON(raw []byte) error {
	a.body = append(json.RawMessage(nil), raw...)
	if err := json.Unmarshal(raw, &a.vals); err != nil {
		a.vals = map[string]json.RawMessage{}
		return slackErr("invalid_json")
	}
	return nil
}

// bearer extracts the token of an "Authorization: Bearer …" header.
func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// has reports whether the argument was given at all.
func (a *args) has(k string) bool {
	_, ok := a.vals[k]
	return ok
}

// str returns a string argument; non-string JSON values come back as their
// JSON text (numbers, booleans).
func (a *args) str(k string) string {
	raw, ok := a.vals[k]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// raw returns a structured argument (blocks, view): a JSON value, or a
// string holding JSON as form encoding sends it. ok is false when absent.
func (a *args) raw(k string) (json.RawMessage, bool, error) {
	v, ok := a.vals[k]
	if !ok || string(v) == "null" {
		return nil, false, nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return v, true, nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, false, nil
	}
	if !json.Valid([]byte(s)) {
		return nil, true, fmt.Errorf("%s is not JSON", k)
	}
	return json.RawMessage(s), true, nil
}

// boolean reads "true"/"1"/true.
func (a *args) boolean(k string) bool {
	s := a.str(k)
	return s == "true" || s == "1"
}

// integer reads a number with a default.
func (a *args) integer(k string, def int) int {
	n, err := strconv.Atoi(a.str(k))
	if err != nil {
		return def
	}
	return n
}

// list reads a comma-separated list ("users": "U1,U2").
func (a *args) list(k string) []string {
	var out []string
	for _, p := range strings.Split(a.str(k), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flat returns every argument as a string, for Call.Args; the token is left
// out so assertions can print calls freely.
func (a *args) flat() map[string]string {
	out := make(map[string]string, len(a.vals))
	keys := make([]string, 0, len(a.vals))
	for k := range a.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "token" {
			out[k] = a.str(k)
		}
	}
	return out
}

// authTest answers auth.test for the bot token.
func (e *Emulator) authTest(*args) (obj, error) {
	return obj{"url": e.base + "/", "team": "Emulated", "user": e.cfg.BotName,
		"team_id": e.cfg.TeamID, "user_id": e.cfg.BotUserID, "bot_id": e.cfg.BotID,
		"is_enterprise_install": false}, nil
}

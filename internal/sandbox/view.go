package sandbox

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/slackemu"
)

// pageData is everything a sandbox page shows.
type pageData struct {
	Title    string
	Viewer   viewer
	People   []Person
	Channels []chanItem
	Tab      string // "channel", "home" or "error"
	Channel  *chanView
	Home     *homeView
	Modal    *modalView
	Problem  string
	Back     string
	BotName  string
}

// chanItem is one entry of the channel list.
type chanItem struct {
	Name    string
	Member  bool
	Current bool
}

// chanView is the open channel.
type chanView struct {
	ID       string
	Name     string
	Topic    string
	Member   bool
	Messages []msgView
	Thread   *msgView
	Replies  []msgView
}

// msgView is one message, ephemeral or not.
type msgView struct {
	TS        string
	Author    string
	IsBot     bool
	Time      string
	Text      template.HTML
	Blocks    []blockView
	Files     []slackemu.File
	Edited    bool
	Replies   int
	Mine      bool
	Ephemeral bool
	System    bool
	RawText   string
}

// homeView is the App Home tab.
type homeView struct {
	Blocks    []blockView
	Published bool
}

// modalView is the open modal of the acting person.
type modalView struct {
	ID, Title, Submit, Close, Key string
	Blocks                        []blockView
}

// namer resolves ids for mrkdwn from one copy of the workspace.
type namer struct {
	users    map[string]string
	channels map[string]string
	groups   map[string]string
}

func (n namer) userName(id string) string {
	if s, ok := n.users[id]; ok {
		return s
	}
	return id
}
func (n namer) channelName(id string) string { return n.channels[id] }
func (n namer) groupHandle(id string) string {
	if s, ok := n.groups[id]; ok {
		return s
	}
	return id
}

// newNamer reads the names once per page.
func (p *Page) newNamer() namer {
	n := namer{users: map[string]string{}, channels: map[string]string{}, groups: map[string]string{}}
	for _, u := range p.emu.Users() {
		n.users[u.ID] = u.Name
		for _, g := range u.Groups {
			n.groups[g] = g
		}
	}
	for _, c := range p.emu.Channels() {
		n.channels[c.ID] = c.Name
	}
	return n
}

// base fills what every page shows: the people, the channel list and the
// acting person's open modal.
func (p *Page) base(r *http.Request, tab, current string) pageData {
	v := viewerOf(r.Context())
	d := pageData{Title: "Sandbox Slack", Viewer: v, People: People, Tab: tab, BotName: p.emu.Config().BotName,
		Back: r.URL.Path}
	if q := r.URL.Query(); len(q) > 0 {
		q.Del("partial")
		q.Del("demo")
		if len(q) > 0 {
			d.Back += "?" + q.Encode()
		}
	}
	for _, c := range p.emu.Channels() {
		if c.Archived {
			continue
		}
		d.Channels = append(d.Channels, chanItem{Name: c.Name, Member: slices.Contains(c.Members, v.As.ID), Current: c.Name == current})
	}
	d.Modal = p.modal(v.As.ID)
	return d
}

// modal is the newest open modal of a person, with any draft.
func (p *Page) modal(user string) *modalView {
	views := p.emu.Views()
	for i := len(views) - 1; i >= 0; i-- {
		vw := views[i]
		if vw.Type != "modal" || vw.User != user || vw.Closed {
			continue
		}
		m := &modalView{ID: vw.ID, Title: vw.Title, Submit: "Submit", Close: "Cancel"}
		m.Submit, m.Close = viewButton(vw.Raw, "submit", m.Submit), viewButton(vw.Raw, "close", m.Close)
		p.mu.Lock()
		dr := p.drafts[vw.ID]
		p.mu.Unlock()
		m.Blocks = blockRenderer{names: p.newNamer()}.render(vw.Blocks, container{View: vw.ID})
		for i := range m.Blocks {
			b := &m.Blocks[i]
			b.Error = dr.Errors[b.BlockID]
			if b.Input != nil {
				if typed, ok := dr.Values[b.Input.Name]; ok {
					b.Input.Typed = typed
				}
			}
		}
		m.Key = fmt.Sprintf("%s/%s/%d", vw.ID, vw.Hash, len(dr.Errors))
		for _, e := range dr.Errors {
			m.Key += "/" + e
		}
		return m
	}
	return nil
}

// channelView builds the open channel's timeline for the acting person:
// top-level messages and their ephemerals, and the open thread.
func (p *Page) channelView(c slackemu.Channel, as Person, thread string) *chanView {
	n := p.newNamer()
	br := blockRenderer{names: n}
	cv := &chanView{ID: c.ID, Name: c.Name, Topic: c.Topic, Member: slices.Contains(c.Members, as.ID)}
	msgs := p.emu.Messages(c.ID)
	for _, m := range msgs {
		mv := p.msgView(m, as, n, br)
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			for _, r := range msgs {
				if r.ThreadTS == m.TS && r.TS != m.TS {
					mv.Replies++
				}
			}
			cv.Messages = append(cv.Messages, mv)
		}
		if thread != "" && m.TS == thread {
			t := mv
			cv.Thread = &t
		}
		if thread != "" && m.ThreadTS == thread && m.TS != thread {
			cv.Replies = append(cv.Replies, mv)
		}
	}
	for _, x := range p.emu.Ephemerals(as.ID) {
		if x.Channel != c.ID {
			continue
		}
		mv := msgView{TS: x.TS, Author: p.emu.Config().BotName, IsBot: true, Time: tsClock(x.TS),
			Blocks: br.render(x.Blocks, container{Channel: c.ID, TS: x.TS}), Ephemeral: true}
		if len(mv.Blocks) == 0 || allSkipped(mv.Blocks) { // the text is the notification fallback, as for messages
			mv.Text = mrkdwn(x.Text, n)
		}
		cv.Messages = append(cv.Messages, mv)
	}
	slices.SortStableFunc(cv.Messages, func(a, b msgView) int { return compareTS(a.TS, b.TS) })
	return cv
}

// msgView renders one stored message.
func (p *Page) msgView(m slackemu.Message, as Person, n namer, br blockRenderer) msgView {
	mv := msgView{TS: m.TS, Author: n.userName(m.User), IsBot: m.IsBot(), Time: tsClock(m.TS), Files: m.Files,
		Edited: m.EditedTS != "", Mine: m.User == as.ID && !m.IsBot(), System: m.Subtype == "channel_join",
		RawText: slackUnescape.Replace(m.Text)}
	mv.Blocks = br.render(m.Blocks, container{Channel: m.Channel, TS: m.TS})
	if len(mv.Blocks) == 0 || allSkipped(mv.Blocks) {
		mv.Text = mrkdwn(m.Text, n)
	}
	return mv
}

func allSkipped(bs []blockView) bool {
	for _, b := range bs {
		if b.Type != "skip" {
			return false
		}
	}
	return true
}

// viewButton reads a modal's submit or close label.
func viewButton(raw []byte, key, def string) string {
	var v map[string]struct {
		Text string `json:"text"`
	}
	if jsonUnmarshal(raw, &v) == nil && v[key].Text != "" {
		return v[key].Text
	}
	return def
}

// tsClock shows a ts as the time of day (UTC).
func tsClock(ts string) string {
	sec, _, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return ""
	}
	return time.Unix(s, 0).UTC().Format("15:04")
}

// compareTS orders Slack timestamps numerically.
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	if len(as) != len(bs) {
		return len(as) - len(bs)
	}
	return strings.Compare(as+"."+af, bs+"."+bf)
}

// render executes a page into a buffer first, so that a template error
// never sends half a page. ?partial=1 renders only the live regions.
func (p *Page) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	name := "page"
	if r.URL.Query().Get("partial") == "1" {
		name = "regions"
	}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		p.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage answers with a message that is safe to show.
func (p *Page) errorPage(w http.ResponseWriter, r *http.Request, v viewer, status int, msg string) {
	d := pageData{Title: http.StatusText(status), Viewer: v, People: People, Tab: "error", Problem: msg,
		Back: "/sandbox/c/" + ChannelGeneral}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "page", d); err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (p *Page) notFound(w http.ResponseWriter, r *http.Request) {
	id, csrf, _ := p.cfg.Session(r)
	p.errorPage(w, r, viewer{Identity: id, CSRF: csrf, As: actingAs(r)}, http.StatusNotFound, "There is no sandbox page at this address.")
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	"initial": func(s string) string {
		if s == "" {
			return "?"
		}
		return strings.ToUpper(s[:1])
	},
	"bytes": sizeText,
}

// sizeText shows a byte count as people read it ("1.0 MiB").
func sizeText(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

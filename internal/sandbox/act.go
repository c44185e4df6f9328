package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cla-ops/cla/slackemu"
)

// ackWait bounds how long a click, a submission or a slash command waits
// for the bot's ack (Slack gives up after 3 s; the emulator's default is
// generous for busy machines).
const ackWait = 10 * time.Second

// commands are the slash commands the sandbox app registers (manifest.yaml).
var commands = []string{"/manual-action"}

// post sends what the composer holds: a slash command when it starts with
// one, else a message (a thread reply with ?thread, a file share with a
// file).
func (p *Page) post(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	c, ok := p.memberChannel(w, r, v)
	if !ok {
		return
	}
	text := strings.TrimRight(r.PostFormValue("text"), " \n\r\t")
	thread := r.PostFormValue("thread")
	back := channelURL(c.Name, thread)
	if n := utf8.RuneCountInString(text); n > MaxMessageRunes {
		p.errorPage(w, r, v, http.StatusRequestEntityTooLarge, fmt.Sprintf("That message has %d characters; Slack allows %d. Nothing was posted.", n, MaxMessageRunes))
		return
	}
	if cmd, rest, ok := slashCommand(text); ok && thread == "" {
		p.runCommand(w, r, v, c, cmd, rest, back)
		return
	}
	msg := slackemu.HumanMessage{User: v.As.ID, Channel: c.ID, Text: text, ThreadTS: thread}
	f, err := p.upload(r)
	if err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, err.Error())
		return
	}
	if f != nil {
		msg.Files = []slackemu.File{*f}
	}
	if strings.TrimSpace(text) == "" && f == nil {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if _, err := p.emu.Post(msg); err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "Not posted: "+err.Error())
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// slashCommand splits "/cmd rest"; ok is false for plain text.
func slashCommand(text string) (cmd, rest string, ok bool) {
	if !strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//") {
		return "", "", false
	}
	cmd, rest, _ = strings.Cut(text, " ")
	return cmd, strings.TrimSpace(rest), true
}

// runCommand runs a registered slash command; the bot's answer shows as
// Slack shows it (ephemeral or in the channel).
func (p *Page) runCommand(w http.ResponseWriter, r *http.Request, v viewer, c slackemu.Channel, cmd, rest, back string) {
	known := false
	for _, k := range commands {
		known = known || k == cmd
	}
	if !known {
		p.errorPage(w, r, v, http.StatusBadRequest, cmd+" is not a valid command. In the sandbox the app has "+strings.Join(commands, ", ")+" (try “/manual-action help”).")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), ackWait)
	defer cancel()
	if _, err := p.emu.RunSlashCommand(ctx, slackemu.SlashCommand{User: v.As.ID, Channel: c.ID, Command: cmd, Text: rest}); err != nil {
		p.errorPage(w, r, v, http.StatusBadGateway, "The app did not answer "+cmd+": "+err.Error())
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// upload reads an optional file from a multipart form.
func (p *Page) upload(r *http.Request) (*slackemu.File, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	fh, ok := r.MultipartForm.File["file"]
	if !ok || len(fh) == 0 || fh[0].Filename == "" {
		return nil, nil
	}
	f, err := fh[0].Open()
	if err != nil {
		return nil, errors.New("the file could not be read; nothing was posted")
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, int64(p.cfg.MaxFileBytes)+1))
	if err != nil {
		return nil, errors.New("the file could not be read; nothing was posted")
	}
	if len(content) > p.cfg.MaxFileBytes {
		return nil, fmt.Errorf("the file is larger than the sandbox's %s limit; nothing was posted", sizeText(p.cfg.MaxFileBytes))
	}
	name := fh[0].Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || len(name) > 255 {
		return nil, errors.New("the file needs a name of at most 255 characters; nothing was posted")
	}
	return &slackemu.File{Name: name, Size: len(content), Content: content}, nil
}

// edit changes the acting person's own message.
func (p *Page) edit(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	c, m, ok := p.ownMessage(w, r, v)
	if !ok {
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" || utf8.RuneCountInString(text) > MaxMessageRunes {
		p.errorPage(w, r, v, http.StatusBadRequest, "An edited message needs between 1 and 40,000 characters; nothing was changed.")
		return
	}
	if err := p.emu.EditMessage(c.ID, m.TS, text); err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "Not edited: "+err.Error())
		return
	}
	http.Redirect(w, r, channelURL(c.Name, threadOf(m)), http.StatusSeeOther)
}

// delete removes the acting person's own message.
func (p *Page) delete(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	c, m, ok := p.ownMessage(w, r, v)
	if !ok {
		return
	}
	if err := p.emu.DeleteMessage(c.ID, m.TS); err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "Not deleted: "+err.Error())
		return
	}
	http.Redirect(w, r, channelURL(c.Name, threadOf(m)), http.StatusSeeOther)
}

func threadOf(m slackemu.Message) string {
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		return m.ThreadTS
	}
	return ""
}

// ownMessage finds the message a form names and checks the acting person
// wrote it.
func (p *Page) ownMessage(w http.ResponseWriter, r *http.Request, v viewer) (slackemu.Channel, slackemu.Message, bool) {
	c, ok := p.memberChannel(w, r, v)
	if !ok {
		return c, slackemu.Message{}, false
	}
	m, ok := p.emu.Message(c.ID, r.PostFormValue("ts"))
	if !ok || m.Deleted {
		p.errorPage(w, r, v, http.StatusNotFound, "That message is gone.")
		return c, m, false
	}
	if m.User != v.As.ID || m.IsBot() {
		p.errorPage(w, r, v, http.StatusForbidden, "Only its author may edit or delete a message; you act as "+v.As.Name+".")
		return c, m, false
	}
	return c, m, true
}

// join makes the acting person a member of a channel.
func (p *Page) join(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	c, ok := p.emu.ChannelByName(r.PathValue("name"))
	if !ok {
		p.errorPage(w, r, v, http.StatusNotFound, "There is no channel #"+r.PathValue("name")+".")
		return
	}
	if err := p.emu.Join(c.ID, v.As.ID); err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "Not joined: "+err.Error())
		return
	}
	http.Redirect(w, r, channelURL(c.Name, ""), http.StatusSeeOther)
}

// memberChannel finds the channel of the path and checks the acting person
// is in it (Slack's client would not let them post otherwise).
func (p *Page) memberChannel(w http.ResponseWriter, r *http.Request, v viewer) (slackemu.Channel, bool) {
	c, ok := p.emu.ChannelByName(r.PathValue("name"))
	if !ok {
		p.errorPage(w, r, v, http.StatusNotFound, "There is no channel #"+r.PathValue("name")+"; nothing was changed.")
		return c, false
	}
	for _, m := range c.Members {
		if m == v.As.ID {
			return c, true
		}
	}
	p.errorPage(w, r, v, http.StatusForbidden, v.As.Name+" is not in #"+c.Name+": join it first. Nothing was changed.")
	return c, false
}

func channelURL(name, thread string) string {
	u := "/sandbox/c/" + url.PathEscape(name)
	if thread != "" {
		u += "?thread=" + url.QueryEscape(thread)
	}
	return u
}

// act is a click on an interactive element of a message or a view.
func (p *Page) act(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	a := slackemu.Action{User: v.As.ID, Channel: r.PostFormValue("channel"), MessageTS: r.PostFormValue("ts"),
		ViewID: r.PostFormValue("view"), ActionID: r.PostFormValue("action_id"), BlockID: r.PostFormValue("block_id"),
		Selected: r.PostForm["selected"]}
	if a.ActionID == "" || (a.ViewID == "" && (a.Channel == "" || a.MessageTS == "")) {
		p.errorPage(w, r, v, http.StatusBadRequest, "That click names no element; nothing was changed.")
		return
	}
	if a.Selected == nil {
		a.Selected = []string{}
	}
	ctx, cancel := context.WithTimeout(r.Context(), ackWait)
	defer cancel()
	if _, err := p.emu.Act(ctx, a); err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "That click did not go through: "+err.Error())
		return
	}
	http.Redirect(w, r, backTo(r), http.StatusSeeOther)
}

package sandbox

import (
	"mime"
	"net/http"
	"strconv"
)

// home opens #general.
func (p *Page) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/sandbox/c/"+ChannelGeneral, http.StatusSeeOther)
}

// channel shows one channel (and, with ?thread=<ts>, one of its threads).
func (p *Page) channel(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	c, ok := p.emu.ChannelByName(r.PathValue("name"))
	if !ok {
		p.errorPage(w, r, v, http.StatusNotFound, "There is no channel #"+r.PathValue("name")+" in the sandbox.")
		return
	}
	d := p.base(r, "channel", c.Name)
	d.Title = "#" + c.Name
	d.Channel = p.channelView(c, v.As, r.URL.Query().Get("thread"))
	p.render(w, r, http.StatusOK, d)
}

// appHome shows the app's Home tab. Opening it (not a live refresh) sends
// app_home_opened, as Slack does, so the bot publishes a fresh view.
func (p *Page) appHome(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	if r.URL.Query().Get("partial") != "1" {
		if _, err := p.emu.OpenAppHome(v.As.ID); err != nil {
			p.log.Warn("open app home", "user", v.As.ID, "err", err)
		}
	}
	d := p.base(r, "home", "")
	d.Title = "Home · " + d.BotName
	d.Home = &homeView{}
	if hv, ok := p.emu.HomeView(v.As.ID); ok {
		d.Home.Published = true
		d.Home.Blocks = blockRenderer{names: p.newNamer()}.render(hv.Blocks, container{View: hv.ID})
	}
	p.render(w, r, http.StatusOK, d)
}

// file downloads a shared file's bytes, always as an attachment that the
// browser may not sniff or run: the bytes are whatever someone uploaded.
func (p *Page) file(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	f, ok := p.emu.FileContent(r.PathValue("id"))
	if !ok {
		p.errorPage(w, r, v, http.StatusNotFound, "The sandbox keeps no bytes of that file: it keeps the newest "+
			sizeText(int(p.emu.Config().MaxFileBytes))+" of files.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	_, _ = w.Write(f.Content)
}

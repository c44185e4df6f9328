package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/cla-ops/cla/slackemu"
)

// submit presses a modal's submit button. Slack's client checks required
// fields and URLs itself and shows its own errors; otherwise the
// view_submission goes to the bot, and a response_action "errors" answer
// is shown under the fields it names, the modal staying open.
func (p *Page) submit(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	vw, ok := p.openModal(w, r, v)
	if !ok {
		return
	}
	values, typed, errs := readInputs(vw.Blocks, r.PostForm)
	if len(errs) > 0 {
		p.setDraft(vw.ID, draft{Values: typed, Errors: errs})
		http.Redirect(w, r, backTo(r), http.StatusSeeOther)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), ackWait)
	defer cancel()
	ack, err := p.emu.SubmitView(ctx, slackemu.Submission{User: v.As.ID, ViewID: vw.ID, Values: values})
	if err != nil {
		p.errorPage(w, r, v, http.StatusBadRequest, "The form was not sent: "+err.Error())
		return
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(ack.Payload, &resp)
	if resp.ResponseAction == "errors" {
		p.setDraft(vw.ID, draft{Values: typed, Errors: resp.Errors})
	} else {
		p.setDraft(vw.ID, draft{})
	}
	http.Redirect(w, r, backTo(r), http.StatusSeeOther)
}

// closeView dismisses the modal.
func (p *Page) closeView(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	if err := p.emu.CloseView(v.As.ID, r.PathValue("id")); err != nil {
		p.errorPage(w, r, v, http.StatusNotFound, "That dialog is not open for "+v.As.Name+".")
		return
	}
	p.setDraft(r.PathValue("id"), draft{})
	http.Redirect(w, r, backTo(r), http.StatusSeeOther)
}

// openModal finds the acting person's open modal named by the path.
func (p *Page) openModal(w http.ResponseWriter, r *http.Request, v viewer) (slackemu.View, bool) {
	id := r.PathValue("id")
	for _, vw := range p.emu.Views() {
		if vw.ID == id && vw.Type == "modal" && vw.User == v.As.ID && !vw.Closed {
			return vw, true
		}
	}
	p.errorPage(w, r, v, http.StatusNotFound, "That dialog is not open for "+v.As.Name+" (it was sent or closed); nothing was changed.")
	return slackemu.View{}, false
}

func (p *Page) setDraft(id string, d draft) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.Values == nil && d.Errors == nil {
		delete(p.drafts, id)
		return
	}
	p.drafts[id] = d
}

// readInputs collects a modal's input values from the form and applies
// the checks Slack's client does before sending: required fields and
// URLs. It returns the values by block and action id, what was typed by
// form field name, and client-side errors by block id.
func readInputs(blocks json.RawMessage, form url.Values) (map[string]map[string]string, map[string]string, map[string]string) {
	values, typed, errs := map[string]map[string]string{}, map[string]string{}, map[string]string{}
	var bs []rawBlock
	_ = json.Unmarshal(blocks, &bs)
	for _, b := range bs {
		if b.Type != "input" || b.Element == nil {
			continue
		}
		name := "v." + b.BlockID + "." + b.Element.ActionID
		val := form.Get(name)
		if b.Element.Type == "checkboxes" {
			val = strings.Join(form[name], ",")
		}
		typed[name] = val
		if msg := clientCheck(b, val); msg != "" {
			errs[b.BlockID] = msg
			continue
		}
		if strings.TrimSpace(val) == "" {
			continue
		}
		if values[b.BlockID] == nil {
			values[b.BlockID] = map[string]string{}
		}
		values[b.BlockID][b.Element.ActionID] = val
	}
	return values, typed, errs
}

// clientCheck is Slack's client-side validation of one input.
func clientCheck(b rawBlock, val string) string {
	if strings.TrimSpace(val) == "" {
		if b.Optional {
			return ""
		}
		return "Please complete this required field."
	}
	if b.Element.Type == "url_text_input" {
		u, err := url.Parse(val)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "Please enter a valid URL."
		}
	}
	return ""
}

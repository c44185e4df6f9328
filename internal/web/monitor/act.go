package monitor

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// resolve handles every gate button: complete, fail, approve, reject,
// resume, retry, skip, abort. A problem re-renders the page with the error
// next to its field; success redirects (post/redirect/get).
func (m *Monitor) resolve(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	form := &actionForm{Action: r.PostFormValue("action"), Message: strings.TrimSpace(r.PostFormValue("message")),
		EvidenceMessage: strings.TrimSpace(r.PostFormValue("evidence_message")),
		EvidenceURL:     strings.TrimSpace(r.PostFormValue("evidence_url")), Errors: formErrors{}}
	act := jobs.Action(form.Action)
	if _, ok := jobs.KindOf(act); !ok {
		m.errorPage(w, r, http.StatusBadRequest, "Unknown action.")
		return
	}
	job, err := m.svc.GetJob(r.Context(), id)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	g := job.Gate(r.PostFormValue("gate"))
	if g != nil && g.State != jobs.GateOpen {
		// The page was stale: say who was first instead of acting on a
		// newer gate the person has not seen.
		form.Errors["form"] = "This step was " + g.ResolvedText() + "."
		m.renderJob(w, r, http.StatusConflict, form, nil)
		return
	}
	// The gate the page showed goes into the domain too, which checks it
	// in the transaction that writes: the look above is only a snapshot,
	// and a newer gate opened since must not take the click.
	res := jobs.Resolution{Action: act, Message: form.Message, Gate: r.PostFormValue("gate")}
	if form.EvidenceMessage != "" || form.EvidenceURL != "" {
		res.Evidence = &jobs.Evidence{Message: form.EvidenceMessage, URL: form.EvidenceURL}
	}
	if msg := checkEvidence(act, job.OpenGate(), res.Evidence); msg != "" {
		form.Errors["evidence"] = msg
		m.renderJob(w, r, http.StatusUnprocessableEntity, form, nil)
		return
	}
	_, _, err = m.svc.Resolve(r.Context(), viewerOf(r.Context()).Identity, jobs.ViaWeb, id, res)
	m.cfg.Metrics.actions.WithLabelValues(string(act), result(err)).Inc()
	if err != nil {
		m.logIfInternal(r, err)
		form.Errors["form"] = jobs.ErrorMessage(err)
		m.renderJob(w, r, httpStatus(err), form, nil)
		return
	}
	http.Redirect(w, r, "/jobs/"+id+"?done="+string(act)+"#gates", http.StatusSeeOther)
}

// checkEvidence validates the evidence fields in place, before the domain
// does, so that the error can sit next to the field.
func checkEvidence(act jobs.Action, g *jobs.Gate, ev *jobs.Evidence) string {
	if ev != nil && ev.URL != "" {
		u, err := url.Parse(ev.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "The link must be a full http:// or https:// address."
		}
	}
	if act == jobs.ActComplete && g != nil && g.Kind == jobs.KindAction && g.RequireEvidence && ev.Empty() {
		return "This step needs evidence: a note, a link, or both."
	}
	return ""
}

// checklist ticks or unticks one item of the gate the page showed (the
// open gate when the form names none), checked in the transaction.
func (m *Monitor) checklist(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	item, err := strconv.Atoi(r.PostFormValue("item"))
	if err != nil {
		m.errorPage(w, r, http.StatusBadRequest, "Unknown checklist item.")
		return
	}
	checked := r.PostFormValue("checked") == "1"
	_, g, err := m.svc.ToggleChecklistOf(r.Context(), viewerOf(r.Context()).Identity, jobs.ViaWeb, id, r.PostFormValue("gate"), item, checked)
	m.cfg.Metrics.actions.WithLabelValues("checklist", result(err)).Inc()
	if err != nil {
		m.logIfInternal(r, err)
		m.renderJob(w, r, httpStatus(err), &actionForm{Errors: formErrors{"form": jobs.ErrorMessage(err)}}, nil)
		return
	}
	http.Redirect(w, r, "/jobs/"+id+"#gate-"+g.ID, http.StatusSeeOther)
}

// annotate adds a comment or an uploaded file to the job.
func (m *Monitor) annotate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, err := readAnnotation(r)
	if err != nil {
		m.renderJob(w, r, http.StatusBadRequest, nil, formErrors{"note": "The file could not be read."})
		return
	}
	_, err = m.svc.Annotate(r.Context(), viewerOf(r.Context()).Identity, jobs.ViaWeb, id, in)
	m.cfg.Metrics.actions.WithLabelValues("note", result(err)).Inc()
	if err != nil {
		m.logIfInternal(r, err)
		m.renderJob(w, r, httpStatus(err), nil, formErrors{"note": jobs.ErrorMessage(err), "text": in.Text})
		return
	}
	http.Redirect(w, r, "/jobs/"+id+"?done=note#log", http.StatusSeeOther)
}

// readAnnotation turns the note form into an annotation: a file when one
// was chosen (the text becomes its caption), otherwise a comment.
func readAnnotation(r *http.Request) (jobs.NewAnnotation, error) {
	text := strings.TrimSpace(r.PostFormValue("text"))
	f, hdr, err := r.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: text}, nil
	}
	if err != nil {
		return jobs.NewAnnotation{}, err
	}
	defer f.Close()
	content, err := io.ReadAll(f)
	if err != nil {
		return jobs.NewAnnotation{}, err
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	return jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: name, Text: text, Content: content}, nil
}

// file serves an attached file as a download, never inline, so that an
// uploaded page cannot run in the monitor's origin.
func (m *Monitor) file(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		m.errorPage(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	entries, err := m.svc.Log(r.Context(), r.PathValue("id"), seq-1, 1)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	n := 0
	if len(entries) == 1 && entries[0].Seq == seq && entries[0].Fields["content"] != "" {
		n, _ = strconv.Atoi(entries[0].Fields["annotation"])
	}
	if n == 0 {
		m.errorPage(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	ref, content, err := m.svc.AnnotationContent(r.Context(), r.PathValue("id"), n)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	name := ref.Name
	if name == "" {
		name = "attachment"
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	if err := web.SendChunked(w, content, m.cfg.SendTimeout); err != nil {
		m.log.Debug("download cut off", "err", err)
	}
}

func (m *Monitor) logIfInternal(r *http.Request, err error) {
	if jobs.ErrorCode(err) == jobs.EINTERNAL {
		m.log.Error("action failed", "path", r.URL.Path, "err", err)
	}
}

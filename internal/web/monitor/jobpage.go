package monitor

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cla-ops/cla/jobs"
)

// logPage is how many log entries a job page shows at first; the live
// stream sends the rest, in order.
const logPage = 500

// jobView is the job page.
type jobView struct {
	Job         *jobs.Job
	Gates       []gateView
	Log         []logView
	LastSeq     uint64
	Timeline    template.HTML
	ContextJSON string
	Note        formErrors // the annotation form's values and errors
	Now         string     // the server's clock, so the countdown corrects the browser's
	MaxFile     string
}

// gateView is one gate card.
type gateView struct {
	*jobs.Gate
	Description template.HTML
	Open        bool
	CanAct      bool
	Voted       bool
	Assignees   []string
	Items       []checkItem
	Form        *actionForm
	Remaining   string
}

// checkItem is one checklist line with who ticked it last.
type checkItem struct {
	Index   int
	Text    string
	Checked bool
	By      string
}

// actionForm keeps what a person typed when an action failed, so the page
// shows it again with the error next to the field.
type actionForm struct {
	Action          string
	Message         string
	EvidenceMessage string
	EvidenceURL     string
	Errors          formErrors
}

// formErrors maps a field name ("evidence", "form", …) to its error.
type formErrors map[string]string

// logView is one log line as shown.
type logView struct {
	jobs.LogEntry
	JobID string
	Long  bool
	Lines int
	First string
	// File says the entry refers to a kept file of FileSize bytes.
	File     bool
	FileSize int
}

// job serves /jobs/{id}; ?fragment=live returns only the part that changes
// when the job does, for the live update script.
func (m *Monitor) job(w http.ResponseWriter, r *http.Request) {
	m.renderJob(w, r, http.StatusOK, nil, nil)
}

// renderJob shows a job page, with a failed action's form or note when
// given.
func (m *Monitor) renderJob(w http.ResponseWriter, r *http.Request, status int, form *actionForm, note formErrors) {
	id := r.PathValue("id")
	job, err := m.svc.GetJob(r.Context(), id)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	live := r.URL.Query().Get("fragment") == "live"
	var entries []jobs.LogEntry
	if !live {
		if entries, err = m.svc.Log(r.Context(), id, 0, logPage); err != nil {
			m.domainError(w, r, err)
			return
		}
	}
	changes, err := m.statusChanges(r.Context(), id, entries, !live && len(entries) < logPage)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	d := page(r, job.Name)
	d.Job = m.jobView(job, changes, viewerOf(r.Context()), form)
	d.Job.Note = note
	if form != nil {
		d.Problem = form.Errors["form"]
	}
	d.Notice = doneNotices[r.URL.Query().Get("done")]
	if live {
		m.renderTemplate(w, r, status, "job", "live", d)
		return
	}
	for _, e := range entries {
		d.Job.Log = append(d.Job.Log, viewLog(id, e))
		d.Job.LastSeq = e.Seq
	}
	m.render(w, r, status, "job", d)
}

var doneNotices = map[string]string{
	"complete": "Marked as completed.", "fail": "Failure reported.", "approve": "Approval recorded.",
	"reject": "Rejected.", "resume": "Resumed.", "retry": "Retry chosen.", "skip": "Skipped.", "abort": "Aborted.",
	"note": "Added to the job log.",
}

func (m *Monitor) jobView(job *jobs.Job, changes []statusChange, v viewer, form *actionForm) *jobView {
	now := m.svc.Now()
	jv := &jobView{Job: job, Timeline: timeline(job, changes, now), MaxFile: byteSize(m.cfg.MaxFileBytes),
		Now: now.Format(time.RFC3339)}
	if len(job.Context) > 0 {
		b, _ := json.MarshalIndent(job.Context, "", "  ")
		jv.ContextJSON = string(b)
	}
	for i := len(job.Gates) - 1; i >= 0; i-- {
		jv.Gates = append(jv.Gates, m.gateView(job, job.Gates[i], v, form, now))
	}
	return jv
}

func (m *Monitor) gateView(job *jobs.Job, g *jobs.Gate, v viewer, form *actionForm, now time.Time) gateView {
	gv := gateView{Gate: g, Description: m.md.HTML(g.Description), Open: g.State == jobs.GateOpen,
		Assignees: g.AllAssignees()}
	gv.CanAct = gv.Open && !job.Status.Terminal() && (len(gv.Assignees) == 0 || v.MatchesAny(gv.Assignees))
	for _, a := range g.Approvals {
		gv.Voted = gv.Voted || a.By == v.Name
	}
	for i, text := range g.Checklist {
		item := checkItem{Index: i, Text: text, Checked: g.Checked(i)}
		for _, t := range g.Ticks {
			if t.Item == i {
				item.By = t.By
			}
		}
		gv.Items = append(gv.Items, item)
	}
	if gv.Open && g.Deadline != nil {
		gv.Remaining = remaining(*g.Deadline, now)
	}
	if gv.Open {
		gv.Form = form
		if gv.Form == nil {
			gv.Form = &actionForm{}
		}
	}
	return gv
}

// Long log texts are collapsed behind a summary line.
const (
	longChars = 1200
	longLines = 12
)

func viewLog(jobID string, e jobs.LogEntry) logView {
	lv := logView{LogEntry: e, JobID: jobID, File: e.Fields["content"] != "", Lines: strings.Count(e.Text, "\n") + 1}
	lv.FileSize, _ = strconv.Atoi(e.Fields["size"])
	lv.Long = len(e.Text) > longChars || lv.Lines > longLines
	if lv.Long {
		first, _, _ := strings.Cut(e.Text, "\n")
		lv.First = clip(first, 120)
	}
	return lv
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

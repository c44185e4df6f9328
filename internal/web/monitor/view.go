package monitor

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// pageData is what every template gets; a page fills the parts it shows.
type pageData struct {
	Title   string
	Viewer  *viewer
	CSRF    string
	Next    string
	Problem string
	Notice  string
	Name    string
	List    *listView
	Job     *jobView
	// Sessions is the sessions page's list.
	Sessions *sessionsView
	Banner   *banner
	// Freezes are the deployment freezes not ended yet, for the banner
	// every signed-in page shows.
	Freezes []jobs.Freeze
}

// banner is the line every page shows when Config.Banner is set.
type banner struct{ Text, Link string }

var pageNames = []string{"login", "link", "bounce", "error", "list", "job", "sessions"}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files,
			"templates/layout.html", "templates/parts/*.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render executes a page into a buffer first, so that a template error
// never sends half a page.
func (m *Monitor) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	if m.cfg.Banner != "" {
		d.Banner = &banner{Text: m.cfg.Banner, Link: m.cfg.BannerLink}
	}
	if d.Viewer != nil {
		fs, err := m.svc.Freezes(r.Context())
		if err != nil {
			m.log.Error("read freezes", "err", err)
		}
		d.Freezes = fs
	}
	m.renderTemplate(w, r, status, page, "layout", d)
}

func (m *Monitor) renderTemplate(w http.ResponseWriter, r *http.Request, status int, page, tmpl string, d any) {
	var buf bytes.Buffer
	if err := m.pages[page].ExecuteTemplate(&buf, tmpl, d); err != nil {
		m.log.Error("render page", "page", page, "template", tmpl, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage shows a message that is safe to show (never internal details).
func (m *Monitor) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d := pageData{Title: http.StatusText(status), Problem: msg}
	if v, ok := m.session(r); ok {
		d.Viewer, d.CSRF = &v, v.CSRF
	}
	m.render(w, r, status, "error", d)
}

// domainError shows a jobs.Error with the matching status.
func (m *Monitor) domainError(w http.ResponseWriter, r *http.Request, err error) {
	if jobs.ErrorCode(err) == jobs.EINTERNAL {
		m.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	msg := jobs.ErrorMessage(err)
	if hint := jobs.ErrorHint(err); hint != "" {
		msg += " (" + hint + ")"
	}
	m.errorPage(w, r, httpStatus(err), msg)
}

// httpStatus is the status of a page refused for err: the API's, except
// 422 for invalid input.
func httpStatus(err error) int {
	if jobs.ErrorCode(err) == jobs.EINVALID {
		return http.StatusUnprocessableEntity // a form shown again with its errors
	}
	status, _ := web.StatusOf(err)
	return status
}

// page starts the data of a signed-in page.
func page(r *http.Request, title string) pageData {
	v := viewerOf(r.Context())
	return pageData{Title: title, Viewer: &v, CSRF: v.CSRF}
}

type statusLook struct{ Label, Icon, Class string }

var statusLooks = map[jobs.Status]statusLook{
	jobs.StatusPending:          {"Pending", "○", "neutral"},
	jobs.StatusInProgress:       {"In progress", "▶", "info"},
	jobs.StatusActionRequired:   {"Action required", "⚠", "wait"},
	jobs.StatusAwaitingApproval: {"Awaiting approval", "◔", "wait"},
	jobs.StatusPaused:           {"Paused", "‖", "wait"},
	jobs.StatusSuccessful:       {"Successful", "✓", "ok"},
	jobs.StatusFailure:          {"Failed", "✗", "bad"},
	jobs.StatusRejected:         {"Rejected", "⊘", "bad"},
	jobs.StatusCancelled:        {"Cancelled", "⊖", "neutral"},
}

var outcomeLooks = map[jobs.Outcome]statusLook{
	jobs.OutcomeSuccessful: {"Completed", "✓", "ok"},
	jobs.OutcomeFailure:    {"Failed", "✗", "bad"},
	jobs.OutcomeApproved:   {"Approved", "✓", "ok"},
	jobs.OutcomeRejected:   {"Rejected", "⊘", "bad"},
	jobs.OutcomeResumed:    {"Resumed", "▶", "ok"},
	jobs.OutcomeRetry:      {"Retry", "↻", "info"},
	jobs.OutcomeSkip:       {"Skipped", "↷", "info"},
	jobs.OutcomeAbort:      {"Aborted", "✗", "bad"},
	jobs.OutcomeTimedOut:   {"Timed out", "⌛", "bad"},
	jobs.OutcomeCancelled:  {"Cancelled", "⊖", "neutral"},
}

func lookOfStatus(s jobs.Status) statusLook {
	if l, ok := statusLooks[s]; ok {
		return l
	}
	return statusLook{string(s), "•", "neutral"}
}

func lookOfOutcome(o *jobs.Outcome) statusLook {
	if o == nil {
		return statusLook{"Open", "⚠", "wait"}
	}
	if l, ok := outcomeLooks[*o]; ok {
		return l
	}
	return statusLook{string(*o), "•", "neutral"}
}

var funcs = template.FuncMap{
	"status":   lookOfStatus,
	"outcome":  lookOfOutcome,
	"when":     timeFormat("2006-01-02 15:04:05 UTC"),
	"iso":      timeFormat(time.RFC3339),
	"short":    timeFormat("Jan 2 15:04"),
	"size":     byteSize,
	"deref":    func(s *string) string { return derefOr(s, "") },
	"statuses": func() []jobs.Status { return jobs.Statuses },
	"kind":     kindLabel,
	"ferr":     fieldError,
	"dict":     dict,
}

// timeFormat formats a time.Time or *time.Time (nil gives "") in UTC.
func timeFormat(layout string) func(any) string {
	return func(v any) string {
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Format(layout)
		case *time.Time:
			if t != nil {
				return t.UTC().Format(layout)
			}
		}
		return ""
	}
}

var kindLabels = map[jobs.LogKind]string{jobs.LogAudit: "change", jobs.LogMessage: "slack", jobs.LogAnnotation: "note",
	jobs.LogTalkBack: "command", jobs.LogNotify: "notify"}

func kindLabel(k jobs.LogKind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// fieldError returns a form's error for a field; a nil form has none.
func fieldError(f *actionForm, field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// dict builds a map from key, value pairs, to pass several values to a
// nested template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}

// remaining says how long until a deadline, in words.
func remaining(deadline, now time.Time) string {
	d := deadline.Sub(now).Round(time.Minute)
	if d <= 0 {
		return "due now"
	}
	days, hours, mins := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return fmt.Sprintf("in %dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("in %dh %02dm", hours, mins)
	}
	return fmt.Sprintf("in %dm", mins)
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

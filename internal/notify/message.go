package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/jobs"
)

// mailData is what both parts of an email show.
type mailData struct {
	Subject, Headline string
	JobID, JobName    string
	JobStatus         string
	GateID, GateName  string
	Kind              string
	Description       string
	Assignees         string
	Change            string // "Escalated to: …" or "Reassigned to: …"
	OpenedAt          string
	Deadline          string
	Checklist         []string
	Link              string
	NotificationID    string
}

func emailData(n jobs.Notification, job *jobs.Job, g *jobs.Gate, publicURL string) mailData {
	headline := subjectLine(n.Event, g)
	d := mailData{
		Subject:  oneLine("[cla] " + headline + ": " + g.Name + " (job " + job.ID + ")"),
		Headline: headline, JobID: job.ID, JobName: job.Name, JobStatus: string(job.Status),
		GateID: g.ID, GateName: g.Name, Kind: string(g.Kind),
		// The description's values were escaped for Slack (&amp; &lt; &gt;);
		// an email shows them as they were given (the HTML part escapes
		// again). The template's own text is shown as written.
		Description: slacktext.Unescape(g.Description),
		Assignees:   listText(g.AllAssignees()), OpenedAt: stamp(g.OpenedAt),
		Checklist: g.Unchecked(), Link: jobURL(publicURL, job.ID), NotificationID: n.ID,
	}
	if g.Deadline != nil {
		d.Deadline = stamp(*g.Deadline)
	}
	switch n.Event {
	case jobs.NotifyEscalated:
		d.Change = "Escalated to: " + listText(n.Assignees)
	case jobs.NotifyReassigned:
		d.Change = "Reassigned to: " + listText(n.Assignees)
	case jobs.NotifyBreakGlass:
		d.Change = g.BreakGlassText() + " (" + string(derefOutcome(g.Outcome)) + ")"
	}
	return d
}

var textBody = texttemplate.Must(texttemplate.New("text").Parse(`{{.Headline}}: {{.GateName}}

Job:       {{.JobName}} ({{.JobID}}), {{.JobStatus}}
Gate:      {{.Kind}} {{.GateID}}, opened {{.OpenedAt}}{{if .Deadline}}, deadline {{.Deadline}}{{end}}
Assignees: {{.Assignees}}
{{- if .Change}}
{{.Change}}{{end}}
{{if .Description}}
{{.Description}}
{{end}}{{if .Checklist}}
Checklist:
{{range .Checklist}}  [ ] {{.}}
{{end}}{{end}}
Open the job: {{.Link}}

-- 
cla notification {{.NotificationID}}
`))

var htmlBody = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif">
<h2>{{.Headline}}: {{.GateName}}</h2>
<table>
<tr><th align="left">Job</th><td>{{.JobName}} ({{.JobID}}), {{.JobStatus}}</td></tr>
<tr><th align="left">Gate</th><td>{{.Kind}} {{.GateID}}, opened {{.OpenedAt}}{{if .Deadline}}, deadline {{.Deadline}}{{end}}</td></tr>
<tr><th align="left">Assignees</th><td>{{.Assignees}}</td></tr>
{{- if .Change}}
<tr><th></th><td><strong>{{.Change}}</strong></td></tr>{{end}}
</table>
{{if .Description}}<div style="white-space: pre-wrap">{{.Description}}</div>{{end}}
{{if .Checklist}}<p>Checklist:</p><ul>{{range .Checklist}}<li>&#9744; {{.}}</li>{{end}}</ul>{{end}}
<p><a href="{{.Link}}">Open job {{.JobID}}</a></p>
<p style="color: #888; font-size: small">cla notification {{.NotificationID}}</p>
</body></html>
`))

// renderEmail builds the whole RFC 5322 message: headers and a
// multipart/alternative body with a plain and an HTML part.
func renderEmail(d mailData, from *mail.Address, to []*mail.Address, now time.Time) ([]byte, error) {
	var plain, html bytes.Buffer
	if err := textBody.Execute(&plain, d); err != nil {
		return nil, err
	}
	if err := htmlBody.Execute(&html, d); err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct {
		ctype string
		data  []byte
	}{{"text/plain; charset=utf-8", plain.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		if err := writePart(mw, part.ctype, part.data); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var msg bytes.Buffer
	writeHeaders(&msg, d, from, to, now, mw.Boundary())
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

func writePart(mw *multipart.Writer, ctype string, data []byte) error {
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write(data); err != nil {
		return err
	}
	return qp.Close()
}

func writeHeaders(buf *bytes.Buffer, d mailData, from *mail.Address, to []*mail.Address, now time.Time, boundary string) {
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.String()
	}
	sum := sha256.Sum256([]byte(d.NotificationID))
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	h := [][2]string{
		{"From", from.String()},
		{"To", strings.Join(rcpts, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", d.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + boundary + `"`},
		{"Auto-Submitted", "auto-generated"},
		{"X-Cla-Notification-Id", mime.QEncoding.Encode("utf-8", oneLine(d.NotificationID))},
		{"X-Cla-Job", oneLine(d.JobID)},
	}
	for _, kv := range h {
		buf.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	buf.WriteString("\r\n")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func listText(a []string) string {
	if len(a) == 0 {
		return "anyone"
	}
	return strings.Join(a, ", ")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func derefOutcome(o *jobs.Outcome) jobs.Outcome {
	if o == nil {
		return ""
	}
	return *o
}

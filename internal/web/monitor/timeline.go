package monitor

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Timeline geometry, in SVG user units; the picture scales to its box.
const (
	tlWidth  = 1000.0
	tlLeft   = 8.0
	tlRight  = 8.0
	tlBand   = 26.0
	tlLane   = 24.0
	tlAxis   = 30.0
	tlLabelW = 260.0
)

// span is a stretch of time drawn as a bar.
type span struct {
	from, to time.Time
	label    string
	look     statusLook
}

// statusChange is a moment the job entered a status.
type statusChange struct {
	at time.Time
	st jobs.Status
}

// timelineScan caps how many log entries a page reads for the timeline's
// status changes; past it, statuses come from the gates and the final
// status only.
const timelineScan = 5000

// statusChanges reads the job's status changes from its audit trail: the
// entries the caller already read (have, from seq 0), then the rest of the
// log up to timelineScan entries.
func (m *Monitor) statusChanges(ctx context.Context, id string, have []jobs.LogEntry, haveAll bool) ([]statusChange, error) {
	out := auditStatuses(have)
	read, after := len(have), uint64(0)
	if len(have) > 0 {
		after = have[len(have)-1].Seq
	}
	for !haveAll && read < timelineScan {
		entries, err := m.svc.Log(ctx, id, after, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, auditStatuses(entries)...)
		read += len(entries)
		if len(entries) < 1000 {
			break
		}
		after = entries[len(entries)-1].Seq
	}
	return out, nil
}

// auditStatuses picks the status changes out of log entries: the audit
// lines "status <s>[: message]" (PATCH) and "job status <s>" (a gate
// closed). Only audit entries count, so a chat message cannot forge one.
func auditStatuses(entries []jobs.LogEntry) []statusChange {
	var out []statusChange
	for _, e := range entries {
		if e.Kind != jobs.LogAudit {
			continue
		}
		rest, ok := strings.CutPrefix(e.Text, "status ")
		if !ok {
			rest, ok = strings.CutPrefix(e.Text, "job status ")
		}
		if !ok {
			continue
		}
		st, _, _ := strings.Cut(rest, ":")
		if s := jobs.Status(st); s.Valid() {
			out = append(out, statusChange{e.At, s})
		}
	}
	return out
}

// timeline draws the job on a time axis, on the server: a band of the job's
// statuses and a lane per gate from its opening to its resolution (or now).
// Statuses come from the audit trail's status changes (changes) and from
// the gates (opening one sets its waiting status); the job's current status
// closes the band.
func timeline(j *jobs.Job, changes []statusChange, now time.Time) template.HTML {
	t0, t1 := j.CreatedAt, now
	if j.Status.Terminal() {
		t1 = j.UpdatedAt
	}
	if t1.Sub(t0) < time.Minute {
		t1 = t0.Add(time.Minute)
	}
	x := func(t time.Time) float64 {
		f := float64(t.Sub(t0)) / float64(t1.Sub(t0))
		return tlLeft + min(max(f, 0), 1)*(tlWidth-tlLeft-tlRight)
	}
	height := tlBand + float64(len(j.Gates))*tlLane + tlAxis + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="tl-title">`, tlWidth, height)
	fmt.Fprintf(&b, `<title id="tl-title">Timeline of job %s from %s to %s</title>`, html.EscapeString(j.ID),
		t0.UTC().Format(time.RFC3339), t1.UTC().Format(time.RFC3339))
	for _, s := range statusSpans(j, changes, t1) {
		drawBar(&b, x(s.from), x(s.to), 4, tlBand-8, s, true)
	}
	for i, g := range j.Gates {
		s := gateSpan(g, t1)
		drawBar(&b, x(s.from), x(s.to), tlBand+float64(i)*tlLane+3, tlLane-8, s, false)
	}
	drawAxis(&b, t0, t1, x, height-tlAxis)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// statusSpans lays the job's statuses end to end: pending from creation,
// each gate's waiting status from its opening, the status after its
// outcome, every status change in the audit trail, and the current status
// last. Changes at the same instant keep the last one.
func statusSpans(j *jobs.Job, changes []statusChange, end time.Time) []span {
	pts := []statusChange{{j.CreatedAt, jobs.StatusPending}}
	if len(j.Gates) == 0 && len(changes) == 0 && j.Status != jobs.StatusPending {
		pts[0].st = jobs.StatusInProgress // no trail to go by: the pipeline ran
	}
	for _, g := range j.Gates {
		pts = append(pts, statusChange{g.OpenedAt, openedStatus(g.Kind)})
		if g.ResolvedAt != nil && g.Outcome != nil {
			pts = append(pts, statusChange{*g.ResolvedAt, jobs.StatusAfter(g, *g.Outcome)})
		}
	}
	pts = append(pts, changes...)
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].at.Before(pts[b].at) })
	if last := pts[len(pts)-1]; last.st != j.Status {
		at := j.UpdatedAt
		if at.Before(last.at) {
			at = last.at
		}
		pts = append(pts, statusChange{at, j.Status})
	}
	var out []span
	for i, p := range pts {
		to := end
		if i+1 < len(pts) {
			to = pts[i+1].at
		}
		switch {
		case i+1 < len(pts) && !to.After(p.at):
			continue // replaced at the same instant
		case len(out) > 0 && out[len(out)-1].look == lookOfStatus(p.st):
			out[len(out)-1].to = to
			continue
		}
		look := lookOfStatus(p.st)
		out = append(out, span{from: p.at, to: to, label: look.Label, look: look})
	}
	return out
}

func openedStatus(k jobs.GateKind) jobs.Status {
	switch k {
	case jobs.KindApproval:
		return jobs.StatusAwaitingApproval
	case jobs.KindPause:
		return jobs.StatusPaused
	}
	return jobs.StatusActionRequired
}

func gateSpan(g *jobs.Gate, end time.Time) span {
	to := end
	if g.ResolvedAt != nil {
		to = *g.ResolvedAt
	}
	look := lookOfOutcome(g.Outcome)
	return span{from: g.OpenedAt, to: to, look: look,
		label: fmt.Sprintf("%s %s · %s — %s", look.Icon, g.ID, g.Name, strings.ToLower(look.Label))}
}

// drawBar draws one bar with its label: inside the band for statuses,
// beside the bar for gates (flipped left near the right edge).
func drawBar(b *strings.Builder, x0, x1, y, h float64, s span, band bool) {
	w := max(x1-x0, 3)
	label := html.EscapeString(s.label)
	fmt.Fprintf(b, `<g class="tl-%s"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3"><title>%s: %s – %s</title></rect>`,
		s.look.Class, x0, y, w, h, label, s.from.UTC().Format("Jan 2 15:04:05"), s.to.UTC().Format("Jan 2 15:04:05"))
	switch {
	case band && w > 110:
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" class="tl-in">%s %s</text>`, x0+6, y+h-5, s.look.Icon, label)
	case !band && x0+w+tlLabelW < tlWidth:
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`, x0+w+6, y+h-3, label)
	case !band:
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x0-6, y+h-3, label)
	}
	b.WriteString(`</g>`)
}

// drawAxis draws five evenly spaced time ticks.
func drawAxis(b *strings.Builder, t0, t1 time.Time, x func(time.Time) float64, y float64) {
	layout := "15:04"
	if t1.Sub(t0) > 36*time.Hour {
		layout = "Jan 2 15:04"
	} else if t1.Sub(t0) < 10*time.Minute {
		layout = "15:04:05"
	}
	fmt.Fprintf(b, `<g class="tl-axis"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, tlLeft, y, tlWidth-tlRight, y)
	for i := 0; i <= 4; i++ {
		t := t0.Add(time.Duration(float64(t1.Sub(t0)) * float64(i) / 4))
		anchor := map[int]string{0: "start", 4: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`,
			x(t), y, x(t), y+5, x(t), y+20, anchor, t.UTC().Format(layout))
	}
	b.WriteString(`</g>`)
}

package workflow

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// TableReporter redraws a live step table (status, duration, spinner, last
// output line) on a terminal; info lines scroll above it.
type TableReporter struct {
	w     io.Writer
	ids   []string
	mu    sync.Mutex
	rows  map[string]*tableRow
	drawn int
	frame int
	stop  chan struct{}
	done  chan struct{}
}

type tableRow struct {
	status  string
	started time.Time
	took    time.Duration
	last    string
}

// NewTableReporter starts redrawing the table for the given step ids.
func NewTableReporter(w io.Writer, ids []string) *TableReporter {
	t := &TableReporter{w: w, ids: ids, rows: map[string]*tableRow{}, stop: make(chan struct{}), done: make(chan struct{})}
	for _, id := range ids {
		t.rows[id] = &tableRow{status: "·"}
	}
	go t.tick()
	return t
}

func (t *TableReporter) tick() {
	defer close(t.done)
	ticker := time.NewTicker(120 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-ticker.C:
			t.mu.Lock()
			t.frame++
			t.draw()
			t.mu.Unlock()
		}
	}
}

// draw repaints the table in place; the caller holds t.mu.
func (t *TableReporter) draw() {
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	width := 4
	for _, id := range t.ids {
		width = max(width, len(id))
	}
	for _, id := range t.ids {
		row := t.rows[id]
		mark, took := "  ", row.took
		if row.status == StepRunning || row.status == StepWaiting {
			mark, took = spinner[t.frame%len(spinner)]+" ", time.Since(row.started)
		}
		durText := ""
		if took > 0 {
			durText = took.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "\x1b[2K%s%-*s  %-9s %8s  %s\n", mark, width, id, row.status, durText, clip(row.last, 60))
	}
	t.drawn = len(t.ids)
	io.WriteString(t.w, b.String())
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (t *TableReporter) set(id string, fn func(*tableRow)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if row := t.rows[id]; row != nil {
		fn(row)
	}
}

// StepStarted implements Reporter.
func (t *TableReporter) StepStarted(id string) {
	t.set(id, func(r *tableRow) { r.status, r.started, r.took = StepRunning, time.Now(), 0 })
}

// StepOutput implements Reporter.
func (t *TableReporter) StepOutput(id, line string) { t.set(id, func(r *tableRow) { r.last = line }) }

// StepEnded implements Reporter.
func (t *TableReporter) StepEnded(id string, st StepState) {
	t.set(id, func(r *tableRow) {
		r.status, r.took = st.Status, st.Duration()
		if st.Error != "" {
			r.last = st.Error
		}
	})
}

// Info implements Reporter: the line goes above the table.
func (t *TableReporter) Info(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drawn > 0 {
		fmt.Fprintf(t.w, "\x1b[%dA\x1b[J", t.drawn)
		t.drawn = 0
	}
	fmt.Fprintf(t.w, "%s\n", msg)
	t.draw()
}

// Finish implements Reporter: a last repaint, then the outcome.
func (t *TableReporter) Finish(sum Summary) {
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range sum.Steps {
		if row := t.rows[s.ID]; row != nil && row.status != s.Status {
			row.status = s.Status
		}
	}
	t.draw()
	text := fmt.Sprintf("workflow %s (run %s) %s, exit %d", sum.Workflow, sum.RunID, sum.Status, sum.ExitCode)
	if sum.Message != "" {
		text += ": " + sum.Message
	}
	fmt.Fprintln(t.w, text)
}

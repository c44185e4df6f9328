package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Reporter shows a run's progress. Methods may be called from several
// goroutines at once.
type Reporter interface {
	StepStarted(id string)
	StepOutput(id, line string)
	StepEnded(id string, st StepState)
	Info(msg string)
	// Finish shows the outcome; nothing is reported after it.
	Finish(sum Summary)
}

type nopReporter struct{}

// StepStarted implements Reporter.
func (nopReporter) StepStarted(string) {}

// StepOutput implements Reporter.
func (nopReporter) StepOutput(string, string) {}

// StepEnded implements Reporter.
func (nopReporter) StepEnded(string, StepState) {}

// Info implements Reporter.
func (nopReporter) Info(string) {}

// Finish implements Reporter.
func (nopReporter) Finish(Summary) {}

// LineReporter writes plain timestamped lines, for CI logs.
type LineReporter struct {
	W   io.Writer
	Now func() time.Time
	mu  sync.Mutex
}

// NewLineReporter returns a LineReporter writing to w.
func NewLineReporter(w io.Writer) *LineReporter { return &LineReporter{W: w, Now: time.Now} }

func (l *LineReporter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.W, "%s "+format+"\n", append([]any{l.Now().UTC().Format(time.RFC3339)}, args...)...)
}

// StepStarted implements Reporter.
func (l *LineReporter) StepStarted(id string) { l.printf("%s | started", id) }

// StepOutput implements Reporter.
func (l *LineReporter) StepOutput(id, line string) { l.printf("%s | %s", id, line) }

// StepEnded implements Reporter.
func (l *LineReporter) StepEnded(id string, st StepState) {
	if st.Error != "" {
		l.printf("%s | %s in %s: %s", id, st.Status, st.Duration().Round(time.Millisecond), st.Error)
		return
	}
	l.printf("%s | %s in %s", id, st.Status, st.Duration().Round(time.Millisecond))
}

// Info implements Reporter.
func (l *LineReporter) Info(msg string) { l.printf("%s", msg) }

// Finish implements Reporter.
func (l *LineReporter) Finish(sum Summary) {
	text := fmt.Sprintf("workflow %s (run %s) %s, exit %d", sum.Workflow, sum.RunID, sum.Status, sum.ExitCode)
	if sum.Message != "" {
		text += ": " + sum.Message
	}
	l.printf("%s", text)
}

// JSONReporter stays quiet during the run and writes the Summary as one
// JSON document at the end, for machines.
type JSONReporter struct{ W io.Writer }

// StepStarted implements Reporter.
func (JSONReporter) StepStarted(string) {}

// StepOutput implements Reporter.
func (JSONReporter) StepOutput(string, string) {}

// StepEnded implements Reporter.
func (JSONReporter) StepEnded(string, StepState) {}

// Info implements Reporter.
func (JSONReporter) Info(string) {}

// Finish implements Reporter.
func (j JSONReporter) Finish(sum Summary) {
	enc := json.NewEncoder(j.W)
	enc.SetIndent("", "  ")
	_ = enc.Encode(sum)
}

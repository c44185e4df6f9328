package workflow

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTableReporter_Finish(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTableReporter(&buf, []string{"build", "deploy"})
	tr.StepStarted("build")
	tr.StepOutput("build", "compiling")
	start := time.Unix(0, 0)
	end := start.Add(1500 * time.Millisecond)
	tr.StepEnded("build", StepState{Status: StepSucceeded, StartedAt: &start, EndedAt: &end})
	tr.Info("paused after step build")
	tr.Finish(Summary{Workflow: "w", RunID: "r", Status: RunPaused, ExitCode: ExitPaused,
		Steps: []StepReport{{ID: "build", Status: StepSucceeded}, {ID: "deploy", Status: StepPending}}})
	out := buf.String()
	require.Contains(t, out, "paused after step build\n")
	last := out[strings.LastIndex(out, "build"):]
	require.Regexp(t, `build\s+succeeded\s+1.5s\s+compiling`, last)
	require.Regexp(t, `deploy\s+pending`, last)
	require.True(t, strings.HasSuffix(out, "workflow w (run r) paused, exit 3\n"))
}

func TestLineReporter(t *testing.T) {
	var buf bytes.Buffer
	lr := NewLineReporter(&buf)
	lr.Now = func() time.Time { return time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC) }
	lr.StepStarted("a")
	lr.StepOutput("a", "hello")
	lr.StepEnded("a", StepState{Status: StepFailed, Error: "exit status 1"})
	require.Equal(t, "2026-03-13T14:00:00Z a | started\n2026-03-13T14:00:00Z a | hello\n2026-03-13T14:00:00Z a | failed in 0s: exit status 1\n", buf.String())
}

func TestIsTerminal(t *testing.T) {
	require.False(t, isTerminal(&bytes.Buffer{}))
}

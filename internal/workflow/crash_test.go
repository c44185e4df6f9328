package workflow

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A run SIGKILLed in the middle of a step resumes by running that step
// again (at least once), and only that step.
func TestRun_CrashMidStep(t *testing.T) {
	f := newFixture(t, `
name: crashy
steps:
  - {id: a, type: shell, config: {command: "`+marker("a")+`"}}
  - id: b
    type: shell
    depends_on: [a]
    config:
      command: "`+marker("b")+`; if [ $(wc -l < %[1]s/b.runs) -eq 1 ]; then echo $$ > %[1]s/b.pid; exec sleep 60; fi"
  - {id: c, type: shell, depends_on: [b], config: {command: "`+marker("c")+`"}}
`)
	child := exec.Command(os.Args[0], "--", "--state-dir", f.state, f.file)
	child.Env = append(os.Environ(), childEnv+"=1")
	require.NoError(t, child.Start())
	pidFile := filepath.Join(f.dir, "b.pid")
	waitFor(t, func() bool {
		raw, err := os.ReadFile(pidFile)
		return err == nil && strings.HasSuffix(string(raw), "\n")
	})

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	raw, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	require.NoError(t, err)
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the orphaned step, in its own process group

	var st State
	raw, err = os.ReadFile(filepath.Join(f.state, "crashy.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &st))
	require.Equal(t, StepRunning, st.Steps["b"].Status, "the state says running before the step starts")

	code, out, errOut := f.run()
	require.Equal(t, ExitDone, code, out+errOut)
	require.Contains(t, out, "step b was interrupted; running it again")
	require.Equal(t, []int{1, 2, 1}, []int{f.runs("a.runs"), f.runs("b.runs"), f.runs("c.runs")})
}

// waitFor polls cond until it holds, failing the test after 60 s (a
// safety net: the child is a -race test binary started on a busy machine).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		<-tick.C
	}
}

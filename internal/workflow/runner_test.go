package workflow

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun_DAGOrder(t *testing.T) {
	f := newFixture(t, `
name: order
steps:
  - {id: d, type: shell, depends_on: [b, c], config: {command: "echo d >> %[1]s/order"}}
  - {id: b, type: shell, depends_on: [a], config: {command: "echo b >> %[1]s/order"}}
  - {id: c, type: shell, depends_on: [b], config: {command: "echo c >> %[1]s/order"}}
  - {id: a, type: shell, config: {command: "echo a >> %[1]s/order"}}
`)
	code, out, errOut := f.run()
	require.Equal(t, ExitDone, code, out+errOut)
	raw, err := os.ReadFile(filepath.Join(f.dir, "order"))
	require.NoError(t, err)
	require.Equal(t, "a\nb\nc\nd\n", string(raw))
}

// Two steps that each wait for the other's marker can only both succeed
// when they run at the same time; with --parallel 1 the first gives up.
// Each waits up to <polls> times 20 ms: the runs that succeed end as soon as
// the other step is there, so the wait is long (a minute: a loaded machine
// may start the second shell seconds after the first); the run that must
// fail can never see the other step, whatever its bound, so it is short.
func TestRun_Parallel(t *testing.T) {
	const wf = `
name: par
steps:
  - id: x
    type: shell
    config: {command: "touch %[1]s/x.ready; i=0; while [ ! -f %[1]s/y.ready ]; do i=$((i+1)); [ $i -gt <polls> ] && exit 7; sleep 0.02; done"}
  - id: y
    type: shell
    config: {command: "touch %[1]s/y.ready; i=0; while [ ! -f %[1]s/x.ready ]; do i=$((i+1)); [ $i -gt <polls> ] && exit 7; sleep 0.02; done"}
`
	t.Run("parallel", func(t *testing.T) {
		f := newFixture(t, strings.ReplaceAll(wf, "<polls>", "3000"))
		code, out, errOut := f.run("--parallel", "2")
		require.Equal(t, ExitDone, code, out+errOut)
	})
	t.Run("one at a time", func(t *testing.T) {
		f := newFixture(t, strings.ReplaceAll(wf, "<polls>", "50"))
		code, out, _ := f.run("--parallel", "1")
		require.Equal(t, ExitFailed, code)
		require.Contains(t, out, "exit status 7")
	})
}

func TestRun_PauseResume(t *testing.T) {
	f := newFixture(t, `
name: pauser
steps:
  - {id: build, type: shell, config: {command: "`+marker("build")+`; echo v1.2"}}
  - {id: stage, type: shell, depends_on: [build], pause: true, config: {command: "`+marker("stage")+`"}}
  - {id: prod, type: shell, depends_on: [stage], config: {command: "`+marker("prod")+`; echo deploying {{steps.build.output}}"}}
`)
	code, out, _ := f.run()
	require.Equal(t, ExitPaused, code, out)
	require.Equal(t, []int{1, 1, 0}, []int{f.runs("build.runs"), f.runs("stage.runs"), f.runs("prod.runs")})
	require.Contains(t, out, "paused after stage; run cla run again to resume")

	code, out, _ = f.run()
	require.Equal(t, ExitDone, code, out)
	require.Equal(t, []int{1, 1, 1}, []int{f.runs("build.runs"), f.runs("stage.runs"), f.runs("prod.runs")})
	require.Contains(t, out, "deploying v1.2")

	code, out, _ = f.run()
	require.Equal(t, ExitDone, code)
	require.Contains(t, out, "already completed")
	require.Equal(t, 1, f.runs("prod.runs"))

	code, _, _ = f.run("--fresh")
	require.Equal(t, ExitPaused, code)
	require.Equal(t, 2, f.runs("build.runs"))
}

func TestRun_FailedRunResumesFailedStep(t *testing.T) {
	f := newFixture(t, `
name: flaky
steps:
  - {id: a, type: shell, config: {command: "`+marker("a")+`"}}
  - {id: b, type: shell, depends_on: [a], config: {command: "`+marker("b")+`; [ -f %[1]s/fixed ]"}}
  - {id: c, type: shell, depends_on: [b], config: {command: "`+marker("c")+`"}}
`)
	code, out, _ := f.run()
	require.Equal(t, ExitFailed, code)
	require.Contains(t, out, "step b failed: exit status 1")
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "fixed"), nil, 0o644))
	code, _, _ = f.run()
	require.Equal(t, ExitDone, code)
	require.Equal(t, []int{1, 2, 1}, []int{f.runs("a.runs"), f.runs("b.runs"), f.runs("c.runs")})
}

func TestRun_BadState(t *testing.T) {
	wf := `
name: guarded
steps:
  - {id: a, type: shell, config: {command: "` + marker("a") + `"}}
`
	other, err := json.Marshal(State{Format: StateFormat, Workflow: "other", Hash: "x", Steps: map[string]*StepState{}})
	require.NoError(t, err)
	cases := []struct {
		name, content, want string
	}{
		{"corrupted", `{"format": 1, "workflow": "guarded", "steps": {`, "is corrupted"},
		{"not a state", `[1, 2, 3]`, "is corrupted"},
		{"empty object", `{}`, "is not a cla run state"},
		{"foreign workflow", string(other), `belongs to workflow "other"`},
		{"other hash", `{"format": 1, "workflow": "guarded", "hash": "abc", "steps": {"a": {"status": "pending"}}}`, "another version of the workflow file"},
		{"other format", `{"format": 9, "workflow": "guarded", "hash": "abc", "steps": {}}`, "has format 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wf)
			require.NoError(t, os.MkdirAll(f.state, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(f.state, "guarded.json"), []byte(tc.content), 0o644))
			code, _, errOut := f.run()
			require.Equal(t, ExitUsage, code)
			require.Contains(t, errOut, tc.want)
			require.Equal(t, 0, f.runs("a.runs"), "nothing may run")
			code, _, _ = f.run("--fresh")
			require.Equal(t, ExitDone, code)
		})
	}
}

func TestRun_TemplatesAndIf(t *testing.T) {
	t.Setenv("CLA_TEST_TARGET", "staging")
	f := newFixture(t, `
name: tmpl
steps:
  - {id: ver, type: shell, config: {command: "echo 3.1.0"}}
  - id: deploy
    type: shell
    depends_on: [ver]
    if: 'env.CLA_TEST_TARGET == "staging" && steps.ver.output startsWith "3."'
    config:
      command: "echo $GREETING {{steps.ver.output}} to {{ env.CLA_TEST_TARGET }} > %[1]s/deploy.txt; echo '{{.Docker}}' >> %[1]s/deploy.txt"
      env: {GREETING: "ship {{steps.ver.status}}"}
  - {id: never, type: shell, depends_on: [ver], if: 'steps.ver.exitCode != 0', config: {command: "`+marker("never")+`"}}
  - {id: after, type: shell, depends_on: [never], config: {command: "echo {{steps.never.status}} > %[1]s/after.txt"}}
`)
	code, out, errOut := f.run()
	require.Equal(t, ExitDone, code, out+errOut)
	raw, err := os.ReadFile(filepath.Join(f.dir, "deploy.txt"))
	require.NoError(t, err)
	require.Equal(t, "ship succeeded 3.1.0 to staging\n{{.Docker}}\n", string(raw))
	require.Equal(t, 0, f.runs("never.runs"))
	raw, err = os.ReadFile(filepath.Join(f.dir, "after.txt"))
	require.NoError(t, err)
	require.Equal(t, "skipped\n", string(raw))
}

func TestRun_UndefinedEnvFails(t *testing.T) {
	f := newFixture(t, `
name: undef
steps:
  - {id: a, type: shell, config: {command: "echo {{env.CLA_SURELY_UNSET_VAR}}; `+marker("a")+`"}}
`)
	code, out, _ := f.run()
	require.Equal(t, ExitFailed, code)
	require.Contains(t, out, "environment variable CLA_SURELY_UNSET_VAR is not set")
	require.Equal(t, 0, f.runs("a.runs"))
}

func TestRun_ConditionErrorFails(t *testing.T) {
	t.Setenv("CLA_TEST_BRANCH", "main")
	f := newFixture(t, `
name: badif
steps:
  - {id: a, type: shell, if: 'int(env.CLA_TEST_BRANCH) > 1', config: {command: "`+marker("a")+`"}}
  - {id: b, type: shell, depends_on: [a], config: {command: "`+marker("b")+`"}}
`)
	code, out, errOut := f.run()
	require.Equal(t, ExitFailed, code, out+errOut)
	require.Contains(t, out+errOut, "if: invalid operation: int(main)")
	require.Equal(t, []int{0, 0}, []int{f.runs("a.runs"), f.runs("b.runs")}, "neither the step nor its dependents ran")
}

func TestRun_RetriesAndTimeout(t *testing.T) {
	t.Run("retries until success", func(t *testing.T) {
		f := newFixture(t, `
name: retry
steps:
  - {id: a, type: shell, retries: 3, config: {command: "`+marker("a")+`; [ $(wc -l < %[1]s/a.runs) -ge 3 ]"}}
`)
		code, out, _ := f.run()
		require.Equal(t, ExitDone, code, out)
		require.Equal(t, 3, f.runs("a.runs"))
		require.Contains(t, out, "retry 2 of 3")
	})
	t.Run("timeout kills the process group", func(t *testing.T) {
		f := newFixture(t, `
name: slow
steps:
  - {id: a, type: shell, timeout: 300ms, config: {command: "sh -c 'sleep 30; `+marker("late")+`' & wait"}}
`)
		code, out, _ := f.run()
		require.Equal(t, ExitFailed, code)
		require.Contains(t, out, "timed out after 300ms")
		require.Equal(t, 0, f.runs("late.runs"))
	})
}

func TestRun_TrapWithoutServer(t *testing.T) {
	f := newFixture(t, `
name: trapped
steps:
  - {id: a, type: shell, trap: true, config: {command: "exit 4"}}
`)
	code, out, _ := f.run()
	require.Equal(t, ExitFailed, code)
	require.Contains(t, out, "trap: true needs --server")
}

func TestExecute_Usage(t *testing.T) {
	f := newFixture(t, "name: u\nsteps:\n  - {id: g, type: gate, config: {kind: approval, name: Go}}\n")
	code := func(n int) *int { return &n }
	cases := []struct {
		name string
		inv  Invocation
		want string
	}{
		{"nothing to discover", Invocation{Dir: t.TempDir()}, "no workflow file given and none found"},
		{"bad store", Invocation{File: f.file, StateStore: "s3"}, "--state-store must be file, server, gitlab or github"},
		{"server store without server", Invocation{File: f.file, StateStore: "server"}, "needs --server"},
		{"server store without run id", Invocation{File: f.file, StateStore: "server", Server: "http://127.0.0.1:1"}, "needs --run-id"},
		{"bad output", Invocation{File: f.file, Output: "xml"}, "--output must be text or json"},
		{"bad parallel", Invocation{File: f.file, Parallel: -1}, "--parallel must be at least 1"},
		{"bad paused exit code", Invocation{File: f.file, PausedExitCode: code(300)}, "--paused-exit-code must be from 0 to 125"},
		{"missing file", Invocation{File: filepath.Join(f.dir, "nope.yaml")}, "no such file"},
		{"gate without server", Invocation{File: f.file}, "gates need --server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			tc.inv.StateDir = f.state
			require.Equal(t, ExitUsage, Execute(t.Context(), tc.inv, &out, &errOut))
			require.Contains(t, errOut.String(), tc.want)
			require.Equal(t, 1, strings.Count(errOut.String(), "cla run:"), "the error is printed once: %s", errOut.String())
		})
	}
	require.NoFileExists(t, filepath.Join(f.state, "u.json"), "a refused run saves nothing")
}

func TestMain_JSONOutput(t *testing.T) {
	f := newFixture(t, `
name: js
steps:
  - {id: a, type: shell, config: {command: "echo hi"}}
  - {id: b, type: shell, depends_on: [a], pause: true, config: {command: "true"}}
  - {id: c, type: shell, depends_on: [b], config: {command: "true"}}
`)
	code, out, _ := f.run("--output", "json")
	require.Equal(t, ExitPaused, code)
	var sum Summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	require.Equal(t, "paused", sum.Status)
	require.Equal(t, ExitPaused, sum.ExitCode)
	require.Len(t, sum.Steps, 3)
	require.Equal(t, StepSucceeded, sum.Steps[1].Status)
	require.Equal(t, StepPending, sum.Steps[2].Status)
}

package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse_Valid(t *testing.T) {
	t.Run("yaml", func(t *testing.T) {
		w, err := Parse("w.yaml", []byte(`
name: release
steps:
  - id: build
    type: shell
    timeout: PT10M
    retries: 2
    config: {command: make}
  - id: approve
    type: gate
    depends_on: build
    config:
      kind: approval
      name: Ship {{steps.build.output}}?
      assignees: [ops]
      timeout: 24h
      reminder: {interval: 1h}
  - id: deploy
    type: shell
    depends_on: [approve]
    trap: {timeout: 1h, default: skip}
    if: steps.approve.output == "approved"
    config: {command: ./deploy.sh}
`))
		require.NoError(t, err)
		require.Equal(t, "release", w.Name)
		require.Len(t, w.Steps, 3)
		require.Equal(t, 10*time.Minute, w.Step("build").Timeout)
		require.Equal(t, 2, w.Step("build").Retries)
		require.Equal(t, []string{"build"}, w.Step("approve").DependsOn)
		require.Equal(t, &Trap{Timeout: time.Hour, Default: "skip"}, w.Step("deploy").Trap)
		require.NotNil(t, w.Step("deploy").cond)
		require.Len(t, w.Hash, 64)
	})
	t.Run("json", func(t *testing.T) {
		w, err := Parse("w.json", []byte(`{"name": "j", "steps": [
  {"id": "a", "type": "shell", "config": {"command": "true"}, "trap": true},
  {"id": "b", "type": "webhook", "depends_on": ["a"], "config": {"url": "http://127.0.0.1/x", "secret": "s", "body": {"n": 1}}}
]}`))
		require.NoError(t, err)
		require.Equal(t, &Trap{Default: "abort"}, w.Step("a").Trap)
		require.Equal(t, map[string]any{"n": 1}, w.Step("b").Config["body"])
	})
}

func TestParse_Errors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"empty", ``, "w: the file is empty"},
		{"json syntax", "{\"name\": \"x\",\n \"steps\": [\n  {\"id\": \"a\",}\n]}", "w:3: invalid JSON"},
		{"yaml syntax", "name: x\nsteps:\n  - id: a\n   type: shell\n", "w:2: invalid YAML: did not find expected '-' indicator"},
		{"not a mapping", "- a\n- b\n", "w:1: the workflow must be a mapping"},
		{"unknown top key", "name: x\nstep: []\n", `w:2: unknown key "step"`},
		{"bad name", "name: 'a b'\nsteps: [{id: a, type: shell, config: {command: x}}]\n", "name \"a b\" must match"},
		{"no steps", "name: x\n", "steps must be a non-empty list"},
		{"duplicate key", "name: x\nname: y\nsteps: []\n", `w:2: duplicate key "name" in the workflow (first at line 1)`},
		{"duplicate id", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: a, type: shell, config: {command: y}}\n",
			`w:4: duplicate step id "a" (first at line 3)`},
		{"bad id", "name: x\nsteps:\n  - {id: 1a, type: shell, config: {command: x}}\n", `step id "1a" must match`},
		{"unknown type", "name: x\nsteps:\n  - {id: a, type: docker}\n", `w:3: step "a" has unknown type "docker"`},
		{"unknown step key", "name: x\nsteps:\n  - id: a\n    type: shell\n    retry: 3\n", `w:5: unknown key "retry" in a step`},
		{"missing command", "name: x\nsteps:\n  - id: a\n    type: shell\n    config: {cmd: x}\n", `w:5: unknown config key "cmd"`},
		{"empty command", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: ''}}\n", "needs config.command"},
		{"env not strings", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x, env: {A: [1]}}}\n", "config.env.A must be a string"},
		{"bad timeout", "name: x\nsteps:\n  - id: a\n    type: shell\n    timeout: soon\n    config: {command: x}\n", "w:5: timeout: duration \"soon\""},
		{"bad retries", "name: x\nsteps:\n  - {id: a, type: shell, retries: -1, config: {command: x}}\n", "retries must be a whole number"},
		{"bad pause", "name: x\nsteps:\n  - {id: a, type: shell, pause: maybe, config: {command: x}}\n", "pause must be true or false"},
		{"bad trap default", "name: x\nsteps:\n  - {id: a, type: shell, trap: {default: later}, config: {command: x}}\n", "trap.default must be retry, skip or abort"},
		{"unknown dep", "name: x\nsteps:\n  - {id: a, type: shell, depends_on: [zz], config: {command: x}}\n", `w:3: step "a" depends on unknown step "zz"`},
		{"self dep", "name: x\nsteps:\n  - {id: a, type: shell, depends_on: a, config: {command: x}}\n", `step "a" depends on itself`},
		{"cycle", "name: x\nsteps:\n  - {id: a, type: shell, depends_on: [c], config: {command: x}}\n  - {id: b, type: shell, depends_on: [a], config: {command: x}}\n  - {id: c, type: shell, depends_on: [b], config: {command: x}}\n",
			"w:3: dependency cycle: a -> c -> b -> a"},
		{"bad if", "name: x\nsteps:\n  - {id: a, type: shell, if: 'env.X ==', config: {command: x}}\n", `w:3: step "a": if:`},
		{"if not bool", "name: x\nsteps:\n  - {id: a, type: shell, if: '1 + 2', config: {command: x}}\n", `step "a": if:`},
		{"if typo", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, depends_on: [a], if: 'steps.a.outptu == \"\"', config: {command: x}}\n", `step "b": if:`},
		{"if unknown name", "name: x\nsteps:\n  - {id: a, type: shell, if: 'foo == 1', config: {command: x}}\n", `w:3: step "a": if: unknown name foo`},
		{"if unknown function", "name: x\nsteps:\n  - {id: a, type: shell, if: 'exec(\"rm\")', config: {command: x}}\n", `w:3: step "a": if: unknown name exec`},
		{"if type mismatch", "name: x\nsteps:\n  - {id: a, type: shell, if: 'env.X == 1', config: {command: x}}\n", `step "a": if: invalid operation: == (mismatched types string and int)`},
		{"if unknown step", "name: x\nsteps:\n  - {id: a, type: shell, if: 'steps.zz.status == \"x\"', config: {command: x}}\n", `w:3: step "a" refers to unknown step "zz"`},
		{"if indexes non-ancestor", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - id: b\n    type: shell\n    if: 'steps[\"a\"].status == \"succeeded\"'\n    config: {command: x}\n",
			`w:4: step "b" reads step "a" but does not depend on it`},
		{"if indexes steps dynamically", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, if: 'steps[env.S].status == \"succeeded\"', config: {command: x}}\n",
			`step "b": if: read steps only as steps.<id>`},
		{"if aliases steps", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, if: 'let s = steps; s.a.status == \"succeeded\"', config: {command: x}}\n",
			`step "b": if: read steps only as steps.<id>`},
		{"if tests membership", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, if: '\"a\" in steps', config: {command: x}}\n",
			`step "b": if: read steps only as steps.<id>`},
		{"if reads non-ancestor", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, if: 'steps.a.status == \"succeeded\"', config: {command: x}}\n",
			`step "b" reads step "a" but does not depend on it`},
		{"template non-ancestor", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, config: {command: 'echo {{steps.a.output}}'}}\n",
			`step "b" reads step "a" but does not depend on it`},
		{"template unknown step", "name: x\nsteps:\n  - {id: b, type: shell, config: {command: 'echo {{steps.zz.output}}'}}\n", `refers to unknown step "zz"`},
		{"template bad field", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: x}}\n  - {id: b, type: shell, depends_on: [a], config: {command: 'echo {{steps.a.stdout}}'}}\n",
			`not "stdout"`},
		{"template bad env", "name: x\nsteps:\n  - {id: a, type: shell, config: {command: 'echo {{env.}}'}}\n", "is not {{env.NAME}}"},
		{"gate kind", "name: x\nsteps:\n  - id: g\n    type: gate\n    config: {kind: trap, name: T}\n", `w:5: gate step "g": kind must be action, approval or pause`},
		{"gate unknown option", "name: x\nsteps:\n  - id: g\n    type: gate\n    config: {kind: action, name: T, asignees: [a]}\n", `unknown field "asignees"`},
		{"gate invalid", "name: x\nsteps:\n  - id: g\n    type: gate\n    config: {kind: action}\n", "gate name is required"},
		{"gate completesJob", "name: x\nsteps:\n  - id: g\n    type: gate\n    config: {kind: action, name: N, completesJob: true}\n", "completesJob is not allowed"},
		{"webhook needs url", "name: x\nsteps:\n  - {id: h, type: webhook, config: {}}\n", "needs config.url"},
		{"notify needs text", "name: x\nsteps:\n  - {id: n, type: slack.notify}\n", "needs config.text"},
		{"config not mapping", "name: x\nsteps:\n  - {id: n, type: shell, config: [1]}\n", "config of step \"n\" must be a mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("w", []byte(tc.src))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
		})
	}
}

func TestParseError_Error(t *testing.T) {
	require.Equal(t, "f.yaml:3: bad", (&ParseError{File: "f.yaml", Line: 3, Msg: "bad"}).Error())
	require.Equal(t, "workflow: bad", (&ParseError{Msg: "bad"}).Error())
}

func TestJobID(t *testing.T) {
	cases := []struct{ workflow, run, want string }{
		{"Release", "1234", "release-1234"},
		{"My App.deploy", "run 7", "my-app.deploy-run-7"},
		{"x", "", "x"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			got := JobID(tc.workflow, tc.run)
			require.Equal(t, tc.want, got)
		})
	}
	long := JobID("a-very-long-workflow-name-that-goes-on-and-on-and-on", "pipeline-1234567890-attempt-2")
	require.LessOrEqual(t, len(long), 64)
}

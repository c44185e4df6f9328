package workflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExpandConfig(t *testing.T) {
	vars := Vars{Env: map[string]string{"TARGET": "prod", "EMPTY": ""},
		Steps: map[string]StepResult{"build": {Status: "succeeded", Output: "v1", ExitCode: 0}}}
	cases := []struct {
		name    string
		in      map[string]any
		want    map[string]any
		wantErr string
	}{
		{"env and step", map[string]any{"c": "deploy {{steps.build.output}} to {{ env.TARGET }}"},
			map[string]any{"c": "deploy v1 to prod"}, ""},
		{"nested", map[string]any{"m": map[string]any{"l": []any{"{{steps.build.status}}", 3, true}}},
			map[string]any{"m": map[string]any{"l": []any{"succeeded", 3, true}}}, ""},
		{"empty env is defined", map[string]any{"c": "[{{env.EMPTY}}]"}, map[string]any{"c": "[]"}, ""},
		{"exit code", map[string]any{"c": "{{steps.build.exitCode}}"}, map[string]any{"c": "0"}, ""},
		{"foreign templates untouched", map[string]any{"c": "{{.State}} {{ range }}"}, map[string]any{"c": "{{.State}} {{ range }}"}, ""},
		{"undefined env", map[string]any{"c": "{{env.NOPE}}"}, nil, "environment variable NOPE is not set"},
		{"no result yet", map[string]any{"c": "{{steps.other.output}}"}, nil, "step other has no result yet"},
		{"bad field", map[string]any{"c": "{{steps.build.log}}"}, nil, `not "log"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandConfig(tc.in, vars)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestEvalCondition(t *testing.T) {
	vars := Vars{Env: map[string]string{"BRANCH": "main"},
		Steps: map[string]StepResult{"test": {Status: "failed", ExitCode: 2}}}
	cases := []struct {
		src     string
		reads   []string
		want    bool
		wantErr string
	}{
		{`env.BRANCH == "main"`, nil, true, ""},
		{`env.MISSING == ""`, nil, true, ""},
		{`steps.test.exitCode == 2 && steps.test.status == "failed"`, []string{"test", "test"}, true, ""},
		{`steps["test"].status == "succeeded"`, []string{"test"}, false, ""},
		{`int(env.BRANCH) > 1`, nil, false, "invalid operation: int(main)"},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			prog, ids, err := compileCondition(tc.src)
			require.NoError(t, err)
			require.Equal(t, tc.reads, ids, "the steps the condition reads")
			got, err := evalCondition(prog, vars)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.False(t, got, "a failed condition is never true")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

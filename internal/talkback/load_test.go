package talkback

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// base is a valid action; cases below replace pieces of it. Line numbers:
// 1 actions, 2 name, 3 command, 4 args, 5 service, 6 when.
const base = `actions:
  - name: restart
    command: ["systemctl", "restart", "{{.args.service}}"]
    args:
      service: { pattern: "^[a-z]+$", required: true }
    when: 'user.id != ""'
`

func TestParse_Errors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string // substring of the message
	}{
		{"unknown top field", "actionz: []\n", 1, `unknown field "actionz"`},
		{"unknown action field", base + "    descripton: x\n", 7, `action "restart": unknown field "descripton"`},
		{"unknown arg field", replace(base, `pattern:`, `patern:`), 5, `args: service: unknown field "patern"`},
		{"bad regexp", replace(base, `^[a-z]+$`, `^[a-z+$`), 5, "pattern: error parsing regexp: missing closing ]"},
		{"bad template", replace(base, `{{.args.service}}`, `{{.args.service`), 3, "command[2]: "},
		{"unknown guard name", replace(base, `user.id`, `usr.id`), 6, `action "restart": when: unknown name usr`},
		{"with in command", replace(base, `{{.args.service}}`, `{{with .job}}{{.name}}{{end}}`), 3, "{{with}} and {{range}} are not allowed"},
		{"range in command", replace(base, `{{.args.service}}`, `{{range .user.groups}}{{.}}{{end}}`), 3, "{{with}} and {{range}} are not allowed"},
		{"index in command", replace(base, `{{.args.service}}`, `{{index .job \"name\"}}`), 3, "{{index}} is not allowed"},
		{"whole job in command", replace(base, `{{.args.service}}`, `{{.job}}`), 3, ".job is not a single value"},
		{"whole context in command", replace(base, `{{.args.service}}`, `{{.job.context}}`), 3, ".job.context is not a single value"},
		{"guard syntax error", replace(base, `user.id != ""`, `user.id !=`), 6, "when: unexpected token EOF"},
		{"guard unclosed paren", replace(base, `user.id != ""`, `(user.id != ""`), 6, "when: unexpected token EOF"},
		{"guard unknown function", replace(base, `user.id != ""`, `exec("rm") == ""`), 6, "when: unknown name exec"},
		{"guard not bool", replace(base, `user.id != ""`, `user.id`), 6, "when: expected bool"},
		{"guard undeclared arg", replace(base, `user.id != ""`, `args.svc == "x"`), 6, `when: argument "svc" is used but not declared`},
		{"multi-line guard", replace(base, `'user.id != ""'`, "|\n      user.id != \"\" &&\n        usr.groups"), 8, "when: unknown name usr"},
		{"duplicate name", base + replace(base, "actions:\n", ""), 7, `name: duplicate (first defined at line 2)`},
		{"empty command", replace(base, `["systemctl", "restart", "{{.args.service}}"]`, `[]`), 3, "command: empty"},
		{"missing command", replace(base, "    command: [\"systemctl\", \"restart\", \"{{.args.service}}\"]\n", ""), 2, "command: missing"},
		{"command not strings", replace(base, `"restart",`, `[restart],`), 3, "command[1]: want a string"},
		{"undeclared arg in command", replace(base, `{{.args.service}}`, `{{.args.svc}}`), 3, `command[2]: argument "svc" is used but not declared`},
		{"unknown job field", replace(base, `{{.args.service}}`, `{{.job.stauts}}`), 3, "unknown field .job.stauts"},
		{"unknown template root", replace(base, `{{.args.service}}`, `{{.arg.service}}`), 3, "unknown field .arg"},
		{"templated program", replace(base, `"systemctl"`, `"{{.args.service}}"`), 3, "program name must be literal"},
		{"empty program", replace(base, `"systemctl"`, `""`), 3, "program name is empty"},
		{"bad timeout", base + "    timeout: 30\n", 7, `timeout: "30" is not a duration`},
		{"zero timeout", base + "    timeout: 0s\n", 7, "timeout: must be positive"},
		{"bad maxOutput", base + "    maxOutput: -1\n", 7, "maxOutput: must be a positive"},
		{"maxOutput not int", base + "    maxOutput: lots\n", 7, "maxOutput: cannot unmarshal"},
		{"confirm unknown field", base + "    confirm: { group: [ops] }\n", 7, `confirm: unknown field "group"`},
		{"confirm not bool", base + "    confirm: maybe\n", 7, "confirm: cannot unmarshal"},
		{"arg unconstrained", replace(base, `pattern: "^[a-z]+$", `, ``), 5, "needs a pattern or an enum"},
		{"default fails pattern", replace(base, "      service: { pattern: \"^[a-z]+$\", required: true }\n", "      service: { pattern: \"^[a-z]+$\", required: true }\n      n: { pattern: \"[0-9]+\", default: abc }\n"), 6, `default: n="abc" does not match`},
		{"enum fails pattern", replace(base, "      service: { pattern: \"^[a-z]+$\", required: true }\n", "      service: { pattern: \"^[a-z]+$\", required: true }\n      n: { pattern: \"[0-9]+\", enum: [\"1\", x] }\n"), 6, `enum value "x"`},
		{"bad arg name", replace(base, "      service: { pattern: \"^[a-z]+$\", required: true }\n", "      service: { pattern: \"^[a-z]+$\", required: true }\n      my-arg: { enum: [a] }\n"), 6, "argument names must match"},
		{"bad action name", replace(base, "name: restart", "name: Restart!"), 2, "name: must match"},
		{"missing name", replace(base, "  - name: restart\n    command", "  - command"), 2, "action #1: name: missing"},
		{"duplicate key", base + "    when: 'true'\n", 7, "when: duplicate key (first at line 6)"},
		{"bad env name", base + "    env: { A-B: x }\n", 7, `env: "A-B" is not a valid variable name`},
		{"actions not a list", "actions: {}\n", 1, "actions: want a list"},
		{"action not a mapping", "actions:\n  - restart\n", 2, "action #1: want a mapping"},
		{"yaml syntax", "actions:\n  - name: [\n", 2, "did not find expected"},
		{"empty file", "", 1, "file is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("talkback.yaml", []byte(tc.src))
			require.Error(t, err)
			errs := ConfigErrors(err)
			require.NotEmpty(t, errs, "want *ConfigError, got %v", err)
			require.Equal(t, "talkback.yaml", errs[0].File)
			require.Equal(t, tc.line, errs[0].Line, "error: %v", err)
			require.Contains(t, errs[0].Msg, tc.want)
		})
	}
}

func replace(s, old, new string) string {
	out := s
	for i := 0; i+len(old) <= len(out); i++ {
		if out[i:i+len(old)] == old {
			return out[:i] + new + out[i+len(old):]
		}
	}
	panic("replace: " + old + " not found")
}

func TestParse_ErrorFormat(t *testing.T) {
	_, err := Parse("talkback.yaml", []byte(replace(base, `user.id`, `usr.id`)))
	require.EqualError(t, err, `talkback.yaml:6: action "restart": when: unknown name usr`)
}

func TestParse_ReportsEveryError(t *testing.T) {
	src := replace(replace(base, `user.id`, `usr.id`), `^[a-z]+$`, `(`) + "    bogus: 1\n"
	_, err := Parse("f.yaml", []byte(src))
	errs := ConfigErrors(err)
	require.Len(t, errs, 3, "%v", err)
	require.Equal(t, []int{5, 6, 7}, []int{errs[0].Line, errs[1].Line, errs[2].Line})
}

func TestParse_Defaults(t *testing.T) {
	l, err := Parse("/etc/cla/talkback.yaml", []byte(base+"    workdir: scripts\n"))
	require.NoError(t, err)
	a, ok := l.Lookup("restart")
	require.True(t, ok)
	require.Equal(t, DefaultTimeout, a.Timeout)
	require.EqualValues(t, DefaultMaxOutput, a.MaxOutput)
	require.False(t, a.Confirm.Required)
	require.Equal(t, "/etc/cla/scripts", a.Workdir)
	require.Equal(t, []string{"service"}, a.ArgNames())
}

func TestParse_Confirm(t *testing.T) {
	cases := []struct {
		src    string
		want   bool
		groups []string
	}{
		{"    confirm: true\n", true, nil},
		{"    confirm: false\n", false, nil},
		{"    confirm: { groups: [ops, sre] }\n", true, []string{"ops", "sre"}},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			l, err := Parse("f.yaml", []byte(base+tc.src))
			require.NoError(t, err)
			a, _ := l.Lookup("restart")
			require.Equal(t, tc.want, a.Confirm.Required)
			require.Equal(t, tc.groups, a.Confirm.Groups)
		})
	}
}

func TestLoad_Example(t *testing.T) {
	l, err := Load("testdata/example.yaml")
	require.NoError(t, err)
	require.Len(t, l.Actions(), 3)
	a, ok := l.Lookup("deploy")
	require.True(t, ok)
	require.Equal(t, 10*time.Minute, a.Timeout)
	require.True(t, a.Confirm.Required)
	require.NoError(t, Check("testdata/example.yaml"))
}

func TestCheck_MissingFile(t *testing.T) {
	err := Check(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Empty(t, ConfigErrors(err))
}

func TestConfigErrors_Nil(t *testing.T) {
	require.Nil(t, ConfigErrors(nil))
	require.Nil(t, ConfigErrors(errors.New("x")))
}

func TestLeadingDashExplicit(t *testing.T) {
	cases := []struct {
		pattern string
		want    bool
	}{
		{`^-?[0-9]+$`, true},
		{`-[a-z]+`, true},
		{`^\-x`, true},
		{`(?:-[0-9]+|[0-9]+)`, true},
		{`^[a-z0-9-]{1,40}$`, false},
		{`[-a-z]+`, false},
		{`.*`, false},
		{`\S+`, false},
		{`[^a]+`, false},
		{`a-b`, false},
		{`(`, false},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			require.Equal(t, tc.want, leadingDashExplicit(tc.pattern))
		})
	}
}

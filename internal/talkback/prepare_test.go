package talkback

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const prepareYAML = `actions:
  - name: restart
    command: ["systemctl", "restart", "{{.args.service}}"]
    args:
      service: { pattern: "^[a-z0-9-]{1,40}$", required: true }
    when: 'job.status in ["in_progress", "action_required"] && "ops" in user.groups'
  - name: scale
    command: ["kubectl", "scale", "--replicas={{.args.n}}", "{{.args.kind}}/{{.args.name}}", "{{if eq .args.force \"true\"}}--force{{end}}"]
    args:
      n: { pattern: "-?[0-9]{1,3}", default: "1" }
      kind: { enum: [deployment, statefulset], default: deployment }
      name: { pattern: "[a-z]+", required: true }
      force: { enum: ["true", "false"], default: "false" }
    when: 'args.name != "db" || "dba" in user.groups'
  - name: release
    command: ["deploy", "{{.job.context.release}}", "--by={{.user.email}}"]
    when: 'job.context.env == "prod"'
  - name: drain
    command: ["drain", "--percent={{.args.pct}}"]
    args:
      pct: { pattern: "[0-9]{1,3}", required: true }
    when: 'int(args.pct) <= 50 && job.context.zone.name != "main"'
`

func prepareList(t *testing.T) *Allowlist {
	t.Helper()
	l, err := Parse("talkback.yaml", []byte(prepareYAML))
	require.NoError(t, err)
	return l
}

func opsEnv() Env {
	return Env{
		Job:  Job{ID: "qa-1", Status: "in_progress", Context: map[string]any{"release": "v1.2", "env": "prod"}},
		User: User{ID: "U1", Email: "a@example.com", Groups: []string{"ops"}},
	}
}

func TestAllowlist_Prepare(t *testing.T) {
	l := prepareList(t)
	cases := []struct {
		text string
		argv []string
	}{
		{"restart service=api", []string{"systemctl", "restart", "api"}},
		{"restart service=my-svc-2", []string{"systemctl", "restart", "my-svc-2"}},
		{"scale name=web", []string{"kubectl", "scale", "--replicas=1", "deployment/web"}},
		{"scale name=web n=-3 kind=statefulset force", []string{"kubectl", "scale", "--replicas=-3", "statefulset/web", "--force"}},
		{"release", []string{"deploy", "v1.2", "--by=a@example.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			req, err := ParseCommand(tc.text)
			require.NoError(t, err)
			inv, err := l.Prepare(req, opsEnv())
			require.NoError(t, err)
			require.Equal(t, tc.argv, inv.Argv)
		})
	}
}

func TestAllowlist_Prepare_Refusals(t *testing.T) {
	l := prepareList(t)
	cases := []struct {
		text string
		env  func(*Env)
		want string
	}{
		{"restart", nil, "restart needs service=<value>; try: restart service=<service>"},
		{"restart service=API", nil, `service="API" does not match the pattern ^[a-z0-9-]{1,40}$`},
		{"restart service=api;rm", nil, "does not match the pattern"},
		{"restart 'service=api\nrm'", nil, "does not match the pattern"},
		{"restart service=-rf", nil, `service="-rf" starts with '-'`},
		{"restart service=--force", nil, `starts with '-'`},
		{"restart service=api extra=1", nil, `restart has no argument "extra"; it takes: service`},
		{"restart service=api", func(e *Env) { e.Job.Status = "done" }, "restart is not allowed here: the guard `job.status in"},
		{"restart service=api", func(e *Env) { e.User.Groups = nil }, "is false"},
		{"scale name=web kind=pod", nil, `kind="pod" is not one of: deployment, statefulset`},
		{"scale name=db", nil, "the guard `args.name != \"db\" || \"dba\" in user.groups` is false"},
		{"scale name=web n=1000", nil, "does not match"},
		{"release", func(e *Env) { e.Job.Context["release"] = "--exec=evil" }, ".job.context.release is \"--exec=evil\", which starts with '-'"},
		{"release", func(e *Env) { delete(e.Job.Context, "release") }, `missing key "release" in {[.job.context.release]}`},
		{"drain pct=80", nil, "the guard `int(args.pct) <= 50 && job.context.zone.name != \"main\"` is false"},
		{"drain pct=10", nil, "drain is not allowed: its guard could not be decided (cannot fetch name from <nil>)"},
		{"restrat service=api", nil, "no action \"restrat\"; did you mean: restart?"},
		{"zzzzzzzz", nil, "actions are: drain, release, restart, scale"},
	}
	for _, tc := range cases {
		t.Run(tc.text+"/"+tc.want, func(t *testing.T) {
			req, err := ParseCommand(tc.text)
			require.NoError(t, err)
			env := opsEnv()
			if tc.env != nil {
				tc.env(&env)
			}
			inv, err := l.Prepare(req, env)
			require.Nil(t, inv)
			r, ok := IsRefusal(err)
			require.True(t, ok, "want *Refusal, got %v", err)
			require.Contains(t, r.Reason, tc.want)
		})
	}
}

func TestAllowlist_Prepare_NotConfigured(t *testing.T) {
	var l *Allowlist
	_, err := l.Prepare(Request{Action: "x"}, Env{})
	require.EqualError(t, err, "TalkBack is not configured on this server")
}

func TestAllowlist_Available(t *testing.T) {
	l := prepareList(t)
	cases := []struct {
		name  string
		env   func(*Env)
		want  []string
		needs []string
	}{
		{"ops in progress", nil, []string{"restart", "scale", "release", "drain"}, []string{"drain"}},
		{"finished job", func(e *Env) { e.Job.Status = "done" }, []string{"scale", "release", "drain"}, []string{"drain"}},
		{"other env", func(e *Env) { e.Job.Context["env"] = "dev" }, []string{"restart", "scale", "drain"}, []string{"drain"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := opsEnv()
			if tc.env != nil {
				tc.env(&env)
			}
			var names, needs []string
			for _, a := range l.Available(env) {
				names = append(names, a.Action.Name)
				if a.NeedsArgs {
					needs = append(needs, a.Action.Name)
				}
			}
			require.Equal(t, tc.want, names)
			require.Equal(t, tc.needs, needs)
		})
	}
}

func TestHelpList(t *testing.T) {
	l := prepareList(t)
	text := HelpList(l.Available(opsEnv()))
	require.Contains(t, text, "`scale [n=<n>] [kind=deployment|statefulset] name=<name> [force=true|false]`")
	require.Contains(t, text, "`n`; matches `-?[0-9]{1,3}`; default 1")
	require.Equal(t, "There is nothing you can run here right now.", HelpList(nil))
}

func TestConfirm_CanConfirm(t *testing.T) {
	alice := User{ID: "U1", Groups: []string{"ops"}}
	bob := User{ID: "U2", Groups: []string{"dev"}}
	carol := User{ID: "U3", Groups: []string{"ops"}}
	cases := []struct {
		name     string
		c        Confirm
		approver User
		want     bool
	}{
		{"anyone else", Confirm{Required: true}, bob, true},
		{"not the requester", Confirm{Required: true}, alice, false},
		{"no identity", Confirm{Required: true}, User{}, false},
		{"group member", Confirm{Required: true, Groups: []string{"ops"}}, carol, true},
		{"outside the group", Confirm{Required: true, Groups: []string{"ops"}}, bob, false},
		{"requester in group", Confirm{Required: true, Groups: []string{"ops"}}, alice, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.c.CanConfirm(alice, tc.approver))
		})
	}
}

func FuzzValidateArgs(f *testing.F) {
	f.Add("name", "web", "n", "-3")
	f.Add("name", "-rf", "kind", "pod")
	f.Add("name", "web\n", "force", "true")
	f.Add("n", "--1", "name", "a b")
	l, err := Parse("f.yaml", []byte(prepareYAML))
	if err != nil {
		f.Fatal(err)
	}
	scale, _ := l.Lookup("scale")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		got, err := scale.validateArgs(map[string]string{k1: v1, k2: v2})
		if err != nil {
			_, ok := IsRefusal(err)
			require.True(t, ok, "validation errors must be refusals: %v", err)
			return
		}
		require.Len(t, got, len(scale.Args))
		for name, v := range got {
			arg := scale.Args[name]
			if arg.re != nil {
				require.Regexp(t, regexp.MustCompile(`^(?:`+arg.Pattern+`)$`), v)
			}
			if strings.HasPrefix(v, "-") {
				require.Equal(t, "n", name, "only n names a leading '-'")
			}
			require.NotContains(t, v, "\n")
		}
		argv, err := scale.render(opsEnv().templateData(got))
		require.NoError(t, err)
		require.Equal(t, "--replicas="+got["n"], argv[2], "a value never splits or shifts argv")
		require.Equal(t, got["kind"]+"/"+got["name"], argv[3])
	})
}

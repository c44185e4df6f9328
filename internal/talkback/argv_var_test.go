package talkback

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
)

// TestArgvLimits: argv elements render within the template limits the
// README names for every template (64 KiB, 1 s); a wall-time limit of
// 100 ms refused plain argv on a busy machine.
func TestArgvLimits(t *testing.T) {
	require.Equal(t, 64<<10, ArgvLimits.WithDefaults().MaxOutput)
	require.Equal(t, jobs.DefaultTemplateMaxTime, ArgvLimits.WithDefaults().MaxTime)
}

// TestAllowlist_Prepare_RootVariable: $.job.name is the same field as
// .job.name and gets the same checks, at load time and at run time.
func TestAllowlist_Prepare_RootVariable(t *testing.T) {
	l, err := Parse("talkback.yaml", []byte(`actions:
  - name: tag
    command: ["tag", "{{$.job.name}}", "{{$.job.context.release}}"]
`))
	require.NoError(t, err)
	cases := []struct {
		name string
		env  func(*Env)
		want string
	}{
		{"job name", func(e *Env) { e.Job.Name = "--exec=evil" }, ".job.name is \"--exec=evil\", which starts with '-'"},
		{"context", func(e *Env) { e.Job.Context["release"] = "-x" }, ".job.context.release is \"-x\", which starts with '-'"},
		// Issue 17 item 13: numbers from a JSON context print with a '-'
		// too, so the rule applies to every value, not only strings.
		{"negative number", func(e *Env) { e.Job.Context["release"] = float64(-5) }, ".job.context.release is \"-5\", which starts with '-'"},
		{"huge negative number", func(e *Env) { e.Job.Context["release"] = -1e21 }, ".job.context.release is \"-1e+21\", which starts with '-'"},
		{"negative int", func(e *Env) { e.Job.Context["release"] = -7 }, ".job.context.release is \"-7\", which starts with '-'"},
		{"negative json.Number", func(e *Env) { e.Job.Context["release"] = json.Number("-3") }, ".job.context.release is \"-3\", which starts with '-'"},
		// Issue 17 item 2: argv elements render within limits.
		{"huge value", func(e *Env) { e.Job.Context["release"] = strings.Repeat("v", 70<<10) }, "size limit of 65536 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := opsEnv()
			env.Job.Context["release"] = "v1"
			tc.env(&env)
			inv, err := l.Prepare(Request{Action: "tag"}, env)
			require.Nil(t, inv)
			r, ok := IsRefusal(err)
			require.True(t, ok, "want *Refusal, got %v", err)
			require.Contains(t, r.Reason, tc.want)
		})
	}
	t.Run("typo refused at load", func(t *testing.T) {
		_, err := Parse("talkback.yaml", []byte(`actions:
  - name: tag
    command: ["tag", "{{$.job.stauts}}"]
`))
		require.ErrorContains(t, err, "unknown field .job.stauts")
	})
}

// TestArgvLimits_Configured: the server's template limits (limits.template*)
// reach argv templates, through ParseLimited and through the registry.
func TestArgvLimits_Configured(t *testing.T) {
	const file = `actions:
  - name: tag
    command: ["tag", "{{.job.context.release}}"]
`
	prepare := func(l *Allowlist) error {
		env := opsEnv()
		env.Job.Context["release"] = strings.Repeat("v", 2048)
		_, err := l.Prepare(Request{Action: "tag"}, env)
		return err
	}
	defaults, err := Parse("talkback.yaml", []byte(file))
	require.NoError(t, err)
	require.NoError(t, prepare(defaults), "2 KiB is within the default 64 KiB")

	small := jobs.TemplateLimits{MaxOutput: 1024}
	limited, err := ParseLimited("talkback.yaml", []byte(file), small)
	require.NoError(t, err)
	r, ok := IsRefusal(prepare(limited))
	require.True(t, ok)
	require.Contains(t, r.Reason, "size limit of 1024 bytes")

	path := filepath.Join(t.TempDir(), "talkback.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
	reg := NewRegistry(nil, slog.New(slog.DiscardHandler))
	reg.SetArgvLimits(small)
	require.NoError(t, reg.Reload(path))
	r, ok = IsRefusal(prepare(reg.Current()))
	require.True(t, ok)
	require.Contains(t, r.Reason, "size limit of 1024 bytes")
}

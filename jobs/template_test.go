package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// amplifying is the review's attack: a description of about 130 bytes whose
// nested ranges over a 100-item context list would render ~100 MB.
const amplifying = `{[range .l]}{[range $.l]}{[range $.l]}{[range $.l]}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{[end]}{[end]}{[end]}{[end]}`

func hundred() []any {
	l := make([]any, 100)
	for i := range l {
		l[i] = i
	}
	return l
}

func TestRenderLimited_Limits(t *testing.T) {
	data := map[string]any{"l": hundred(), "s": "abc", "n": 5}
	cases := []struct {
		name, text string
		lim        jobs.TemplateLimits
		want       string // substring of the error; "" means no error
		out        string
	}{
		{"plain text untouched", "no {{template}} here", jobs.TemplateLimits{}, "", "no {{template}} here"},
		{"field", "svc {[.s]}", jobs.TemplateLimits{}, "", "svc abc"},
		{"small range", "{[range .l]}{[if lt . 3]}{[.]}{[end]}{[end]}", jobs.TemplateLimits{}, "", "012"},
		{"amplification: output", amplifying, jobs.TemplateLimits{}, "size limit of 65536 bytes", ""},
		{"amplification: iterations", amplifying, jobs.TemplateLimits{MaxOutput: 1 << 30, MaxTime: time.Hour}, "iteration limit of 10000", ""},
		{"silent loop: time", `{[range .l]}{[range $.l]}{[range $.l]}{[range $.l]}{[end]}{[end]}{[end]}{[end]}`,
			jobs.TemplateLimits{MaxIterations: 1 << 30, MaxTime: time.Millisecond}, "time limit of 1ms", ""},
		{"range over an int", `{[range 1000000000]}{[end]}`, jobs.TemplateLimits{MaxTime: time.Hour}, "iteration limit", ""},
		{"nesting", `{[if 1]}{[if 1]}{[if 1]}{[if 1]}{[if 1]}x{[end]}{[end]}{[end]}{[end]}{[end]}`, jobs.TemplateLimits{}, "nesting limit of 4", ""},
		{"nesting in else", `{[if 1]}{[else]}{[with 1]}{[with 1]}{[with 1]}{[with 1]}x{[end]}{[end]}{[end]}{[end]}{[end]}`, jobs.TemplateLimits{}, "nesting limit of 4", ""},
		{"printf width", `{[printf "%0999999999d" 1]}`, jobs.TemplateLimits{}, "printf width exceeds the size limit", ""},
		{"printf star width", `{[printf "%*d" 999999999 1]}`, jobs.TemplateLimits{}, "* widths are not allowed", ""},
		{"doubling in a variable", `{[$x := "aaaaaaaa"]}{[range 40]}{[$x = printf "%s%s" $x $x]}{[end]}`, jobs.TemplateLimits{}, "a value exceeds the size limit", ""},
		{"print doubling", `{[$x := "aaaaaaaa"]}{[range 40]}{[$x = print $x $x]}{[end]}`, jobs.TemplateLimits{}, "a value exceeds the size limit", ""},
		{"define refused", `{[define "a"]}{[template "a"]}{[end]}{[template "a"]}`, jobs.TemplateLimits{}, "define and block are not allowed", ""},
		{"template call refused", `{[template "x"]}`, jobs.TemplateLimits{}, "template", ""},
		{"missing key", `{[.nope]}`, jobs.TemplateLimits{}, "nope", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := jobs.RenderLimited("description", c.text, data, c.lim)
			if c.want == "" {
				require.NoError(t, err)
				require.Equal(t, c.out, out)
				return
			}
			require.Error(t, err)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "description template")
			require.Empty(t, out)
		})
	}
}

func TestLimitTemplate_ConcurrentRenders(t *testing.T) {
	tm, err := template.New("argv").Parse(`{{range .l}}{{.}}{{end}}`)
	require.NoError(t, err)
	lt, err := jobs.LimitTemplate(tm, jobs.TemplateLimits{MaxIterations: 150})
	require.NoError(t, err)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			// Each rendering has its own budget: 100 iterations each fit
			// 150 even when eight run at once.
			_, err := lt.Render(map[string]any{"l": hundred()})
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	_, err = lt.Render(map[string]any{"l": append(hundred(), hundred()...)})
	require.ErrorContains(t, err, "iteration limit of 150")
}

// TestService_OpenGateTemplateAmplification replays the attack through the
// service: the gate is refused with a 400-class error naming the limit and
// the job is unchanged.
func TestService_OpenGateTemplateAmplification(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "amp-1", Name: "amp", Context: map[string]any{"l": hundred()}})
	require.NoError(t, err)
	_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "amp-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: amplifying})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
	require.Contains(t, err.Error(), "size limit")
	j, err := svc.GetJob(ctx, "amp-1")
	require.NoError(t, err)
	require.Empty(t, j.Gates)
	require.Equal(t, uint64(1), j.Version)

	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "amp-2", Name: "amp", Context: map[string]any{"l": hundred()},
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: amplifying}})
	require.ErrorContains(t, err, "size limit")
	_, err = svc.GetJob(ctx, "amp-2")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "a refused dispatch stores nothing")
}

// TestService_DescriptionRenderedOnce: a context value that looks like a
// template is data; it is never rendered a second time.
func TestService_DescriptionRenderedOnce(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "once-1", Name: "n",
		Context: map[string]any{"v": "{[.job.requester]}"}})
	require.NoError(t, err)
	_, g, err := svc.OpenGate(ctx, ci, jobs.ViaAPI, "once-1", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: "v={[.v]}"})
	require.NoError(t, err)
	require.Equal(t, "v={[.job.requester]}", g.Description)
}

func FuzzRenderLimited(f *testing.F) {
	f.Add(amplifying)
	f.Add(`{[printf "%0999d" 1]}`)
	f.Add(`{[range 100000]}{[end]}`)
	f.Add(`{[.s]} {[len .l]}`)
	data := map[string]any{"l": hundred(), "s": "abc"}
	f.Fuzz(func(t *testing.T, text string) {
		lim := jobs.TemplateLimits{MaxOutput: 4096, MaxTime: 50 * time.Millisecond}
		out, err := jobs.RenderLimited("f", text, data, lim)
		if err != nil {
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			return
		}
		if strings.Contains(text, "{[") {
			require.LessOrEqual(t, len(out), 4096)
		}
	})
}

// markupSpy escapes every printed value as [value] and records the text
// before it, so a test sees exactly which values went through it.
type markupSpy struct{ before []string }

func (m *markupSpy) EscapeValue(before, value string) string {
	m.before = append(m.before, before)
	return "[" + value + "]"
}
func (m *markupSpy) Check(string) error { return nil }

func TestRenderMarkup(t *testing.T) {
	data := map[string]any{"s": "<!channel>", "n": 3.5, "null": nil, "l": []any{"a", "b"}, "m": map[string]any{"k": "v"}}
	cases := []struct{ name, text, want string }{
		{"literal text kept", "*bold* <https://x|y> <!here>", "*bold* <https://x|y> <!here>"},
		{"a value", "hi {[.s]}!", "hi [<!channel>]!"},
		{"numbers and nil print as text/template does", "{[.n]} {[.null]}", "[3.5] [<no value>]"},
		{"pipelines end in the escape", `{[.s | printf "%q"]}`, `["<!channel>"]`},
		{"declarations print nothing and keep raw values", `{[$x := .s]}{[if eq $x "<!channel>"]}yes{[end]}`, "yes"},
		{"range bodies", "{[range .l]}-{[.]}{[end]}", "-[a]-[b]"},
		{"with", "{[with .m]}{[.k]}{[end]}", "[v]"},
		{"else branch", "{[if .null]}x{[else]}{[.s]}{[end]}", "[<!channel>]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spy := &markupSpy{}
			got, err := jobs.RenderMarkup("description", tc.text, data, jobs.TemplateLimits{}, spy)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	spy := &markupSpy{}
	_, err := jobs.RenderMarkup("description", "<{[.s]}|{[.s]}>", data, jobs.TemplateLimits{}, spy)
	require.NoError(t, err)
	require.Equal(t, []string{"<", "<[<!channel>]|"}, spy.before, "each value sees the text rendered before it")

	got, err := jobs.RenderMarkup("description", "{[.s]} & <b>", data, jobs.TemplateLimits{}, nil)
	require.NoError(t, err)
	require.Equal(t, "&lt;!channel&gt; & <b>", got, "the default escapes values' &, <, > only")
	_, err = jobs.RenderMarkup("description", amplifying, map[string]any{"l": hundred()}, jobs.TemplateLimits{}, nil)
	require.ErrorContains(t, err, "size limit", "limits hold with escaping")
}

// refuseAll is a Markup whose check refuses everything.
type refuseAll struct{}

func (refuseAll) EscapeValue(_, v string) string { return v }
func (refuseAll) Check(string) error             { return errors.New("nope") }

// TestService_DescriptionChecked: the markup's check runs on every door
// that opens a gate, with or without a template, and a refusal stores
// nothing.
func TestService_DescriptionChecked(t *testing.T) {
	ctx := context.Background()
	svc, _ := newServiceWith(t, jobs.Options{Markup: refuseAll{}})
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "chk-1", Name: "n", Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: "plain"}})
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
	require.ErrorContains(t, err, "description: nope")
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "chk-2", Name: "n"})
	require.NoError(t, err)
	for _, desc := range []string{"plain", "{[.job.id]}"} {
		_, _, err = svc.OpenGate(ctx, ci, jobs.ViaAPI, "chk-2", jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Description: desc})
		require.ErrorContains(t, err, "description: nope", desc)
	}
	j, err := svc.GetJob(ctx, "chk-2")
	require.NoError(t, err)
	require.Empty(t, j.Gates)
}

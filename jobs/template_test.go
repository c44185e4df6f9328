package jobs_test

import (
	"context"
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

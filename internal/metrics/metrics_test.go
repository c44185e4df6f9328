package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistry_WriteText(t *testing.T) {
	r := &Registry{}
	c := &Counter{newFamily("cla_test_total", "Things counted.", "counter", []string{"kind"})}
	g := &Gauge{newFamily("cla_test_pending", "Things pending.", "gauge", nil)}
	h := &Histogram{newFamily("cla_test_seconds", "Time taken.", "histogram", nil), []float64{0.1, 1}}
	r.add(c)
	r.add(g)
	r.add(h)
	c.Inc("a")
	c.Add(2, "b")
	g.Set(7)
	h.Observe(0.05)
	h.Observe(0.5)
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	want := `# HELP cla_test_total Things counted.
# TYPE cla_test_total counter
cla_test_total{kind="a"} 1
cla_test_total{kind="b"} 2
# HELP cla_test_pending Things pending.
# TYPE cla_test_pending gauge
cla_test_pending 7
# HELP cla_test_seconds Time taken.
# TYPE cla_test_seconds histogram
cla_test_seconds_bucket{le="0.1"} 1
cla_test_seconds_bucket{le="1"} 2
cla_test_seconds_bucket{le="+Inf"} 2
cla_test_seconds_sum 0.55
cla_test_seconds_count 2
`
	require.Equal(t, want, b.String())
	require.Equal(t, 2.0, c.Value("b"))
	require.Panics(t, func() { c.Inc() }, "wrong label count must panic")
}

func TestGaugeFunc_ReadAtScrape(t *testing.T) {
	r := &Registry{}
	v := 1.0
	r.add(&GaugeFunc{name: "cla_test_live", help: "Read at scrape.", read: func() float64 { return v }})
	v = 42
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	require.Equal(t, "# HELP cla_test_live Read at scrape.\n# TYPE cla_test_live gauge\ncla_test_live 42\n", b.String())
	b.Reset()
	require.NoError(t, WriteText(&b))
	require.Contains(t, b.String(), "go_goroutines ")
}

func TestRegistry_WriteTextEscapesLabels(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"plain", "webhook", `cla_esc_total{kind="webhook"} 1`},
		{"quote", `say "hi"`, `cla_esc_total{kind="say \"hi\""} 1`},
		{"backslash", `C:\path`, `cla_esc_total{kind="C:\\path"} 1`},
		{"newline", "a\nb", `cla_esc_total{kind="a\nb"} 1`},
		{"empty", "", `cla_esc_total{kind=""} 1`},
		{"tab stays raw", "a\tb", "cla_esc_total{kind=\"a\tb\"} 1"},
		{"invalid utf-8", "a\xffb", "cla_esc_total{kind=\"a\uFFFDb\"} 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Registry{}
			c := &Counter{newFamily("cla_esc_total", "Escaping.", "counter", []string{"kind"})}
			r.add(c)
			c.Inc(tc.value)
			var b strings.Builder
			require.NoError(t, r.WriteText(&b))
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			require.Len(t, lines, 3, "a label value never breaks the line: %q", b.String())
			require.Equal(t, tc.want, lines[2])
		})
	}
}

func TestCounter_ConcurrentInc(t *testing.T) {
	c := &Counter{newFamily("cla_conc_total", "Concurrent.", "counter", []string{"kind"})}
	h := &Histogram{newFamily("cla_conc_seconds", "Concurrent.", "histogram", nil), []float64{1}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				c.Inc("a")
				h.Observe(0.5)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 8000.0, c.Value("a"), "no increment is lost")
	require.Zero(t, c.Value("b"), "an unseen series reads zero")
	r := &Registry{}
	r.add(h)
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	require.Contains(t, b.String(), "cla_conc_seconds_bucket{le=\"1\"} 8000\n")
	require.Contains(t, b.String(), "cla_conc_seconds_count 8000\n")
	require.Contains(t, b.String(), "cla_conc_seconds_sum 4000\n")
}

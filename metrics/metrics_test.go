package metrics

import (
	"strings"
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

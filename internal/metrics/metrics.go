// Package metrics is a small registry of counters, gauges and histograms
// written out in the Prometheus text exposition format for GET /metrics.
// It exists so that every component can count without a heavy dependency.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
)

// Registry holds metrics in registration order.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer) error
}

// Default is the process-wide registry that the New* functions use.
var Default = &Registry{}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// WriteText writes the default registry in the Prometheus text format.
func WriteText(w io.Writer) error { return Default.WriteText(w) }

// WriteText writes every metric of r in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		if err := m.write(w); err != nil {
			return err
		}
	}
	return nil
}

// family is a named metric with labelled series.
type family struct {
	name, help, kind string
	labels           []string
	mu               sync.Mutex
	series           map[string]*series
}

type series struct {
	labelValues []string
	value       float64
	buckets     []uint64
	count       uint64
}

func newFamily(name, help, kind string, labels []string) *family {
	return &family{name: name, help: help, kind: kind, labels: labels, series: map[string]*series{}}
}

// get returns the series for the label values, creating it.
func (f *family) get(lv []string, nbuckets int) *series {
	if len(lv) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", f.name, len(f.labels), len(lv)))
	}
	key := strings.Join(lv, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{labelValues: append([]string(nil), lv...), buckets: make([]uint64, nbuckets)}
		f.series[key] = s
	}
	return s
}

func (f *family) sorted() []*series {
	out := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.Join(out[i].labelValues, "\xff") < strings.Join(out[j].labelValues, "\xff")
	})
	return out
}

func (f *family) header(w io.Writer) error {
	_, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, f.kind)
	return err
}

// labelEscaper applies the only escapes the Prometheus text format knows
// in label values; helpEscaper those of HELP lines.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func labelText(names, values []string, extra ...string) string {
	var parts []string
	for i, n := range names {
		parts = append(parts, n+`="`+labelEscaper.Replace(strings.ToValidUTF8(values[i], "\uFFFD"))+`"`)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		parts = append(parts, extra[i]+`="`+labelEscaper.Replace(extra[i+1])+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return fmt.Sprint(v)
}

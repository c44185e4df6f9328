package metrics

import (
	"fmt"
	"io"
)

// Counter only goes up: requests served, notifications sent.
type Counter struct{ f *family }

// NewCounter registers a counter in the default registry.
func NewCounter(name, help string, labels ...string) *Counter {
	c := &Counter{newFamily(name, help, "counter", labels)}
	Default.add(c)
	return c
}

// Inc adds one to the series with the given label values.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Add adds v to the series with the given label values.
func (c *Counter) Add(v float64, labelValues ...string) {
	c.f.mu.Lock()
	c.f.get(labelValues, 0).value += v
	c.f.mu.Unlock()
}

// Value returns the current value of one series (for tests).
func (c *Counter) Value(labelValues ...string) float64 {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return c.f.get(labelValues, 0).value
}

func (c *Counter) write(w io.Writer) error { return writeScalar(w, c.f) }

// Gauge goes up and down: pending notifications, open connections.
type Gauge struct{ f *family }

// NewGauge registers a gauge in the default registry.
func NewGauge(name, help string, labels ...string) *Gauge {
	g := &Gauge{newFamily(name, help, "gauge", labels)}
	Default.add(g)
	return g
}

// Set sets the series with the given label values.
func (g *Gauge) Set(v float64, labelValues ...string) {
	g.f.mu.Lock()
	g.f.get(labelValues, 0).value = v
	g.f.mu.Unlock()
}

// Add adds v (which may be negative) to the series.
func (g *Gauge) Add(v float64, labelValues ...string) {
	g.f.mu.Lock()
	g.f.get(labelValues, 0).value += v
	g.f.mu.Unlock()
}

// Value returns the current value of one series (for tests).
func (g *Gauge) Value(labelValues ...string) float64 {
	g.f.mu.Lock()
	defer g.f.mu.Unlock()
	return g.f.get(labelValues, 0).value
}

func (g *Gauge) write(w io.Writer) error { return writeScalar(w, g.f) }

func writeScalar(w io.Writer, f *family) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.header(w); err != nil {
		return err
	}
	for _, s := range f.sorted() {
		if _, err := fmt.Fprintf(w, "%s%s %s\n", f.name, labelText(f.labels, s.labelValues), formatFloat(s.value)); err != nil {
			return err
		}
	}
	return nil
}

// Histogram counts observations into cumulative buckets: latencies, sizes.
type Histogram struct {
	f       *family
	buckets []float64
}

// DefaultBuckets suit request latencies in seconds.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewHistogram registers a histogram; nil buckets mean DefaultBuckets.
func NewHistogram(name, help string, buckets []float64, labels ...string) *Histogram {
	if buckets == nil {
		buckets = DefaultBuckets
	}
	h := &Histogram{newFamily(name, help, "histogram", labels), buckets}
	Default.add(h)
	return h
}

// Observe records one value in the series with the given label values.
func (h *Histogram) Observe(v float64, labelValues ...string) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s := h.f.get(labelValues, len(h.buckets))
	for i, b := range h.buckets {
		if v <= b {
			s.buckets[i]++
		}
	}
	s.count++
	s.value += v
}

func (h *Histogram) write(w io.Writer) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if err := h.f.header(w); err != nil {
		return err
	}
	for _, s := range h.f.sorted() {
		for i, b := range h.buckets {
			le := labelText(h.f.labels, s.labelValues, "le", formatFloat(b))
			if _, err := fmt.Fprintf(w, "%s_bucket%s %d\n", h.f.name, le, s.buckets[i]); err != nil {
				return err
			}
		}
		lt := labelText(h.f.labels, s.labelValues)
		inf := labelText(h.f.labels, s.labelValues, "le", "+Inf")
		if _, err := fmt.Fprintf(w, "%s_bucket%s %d\n%s_sum%s %s\n%s_count%s %d\n", h.f.name, inf, s.count,
			h.f.name, lt, formatFloat(s.value), h.f.name, lt, s.count); err != nil {
			return err
		}
	}
	return nil
}

// GaugeFunc is a gauge read when /metrics is scraped: goroutines, uptime.
type GaugeFunc struct {
	name, help string
	read       func() float64
}

// NewGaugeFunc registers a gauge whose value read returns at scrape time.
func NewGaugeFunc(name, help string, read func() float64) *GaugeFunc {
	g := &GaugeFunc{name: name, help: help, read: read}
	Default.add(g)
	return g
}

func (g *GaugeFunc) write(w io.Writer) error {
	_, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", g.name, helpEscaper.Replace(g.help), g.name, g.name, formatFloat(g.read()))
	return err
}

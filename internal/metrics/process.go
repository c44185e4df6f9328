package metrics

import (
	"runtime"
	"time"
)

var started = time.Now()

// The process gauges every cla server exposes.
var (
	_ = NewGaugeFunc("go_goroutines", "Number of goroutines that currently exist.",
		func() float64 { return float64(runtime.NumGoroutine()) })
	_ = NewGaugeFunc("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.",
		func() float64 { return float64(started.Unix()) })
	_ = NewGaugeFunc("go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", heapInuse)
)

func heapInuse() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse)
}

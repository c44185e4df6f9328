package perf

import (
	"os"
	"testing"

	"github.com/cla-ops/cla/internal/config"
)

// TestMain runs the benchmarks with the garbage collector tuned as cla
// serve tunes it (GOGC, when set, still wins).
func TestMain(m *testing.M) {
	config.TuneGC(os.Getenv)
	os.Exit(m.Run())
}

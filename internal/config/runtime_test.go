package config

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTuneGC: the server's GC target applies unless GOGC is set.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	require.False(t, TuneGC(func(string) string { return "50" }), "GOGC set: left alone")
	require.Equal(t, 100, debug.SetGCPercent(100))

	require.True(t, TuneGC(func(string) string { return "" }))
	require.Equal(t, ServerGCPercent, debug.SetGCPercent(100))
}

package perf

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkFsyncPattern is the disk's side of BenchmarkCommit: the time to
// write 30 pages of 4 KiB into an existing file and fdatasync them, the
// pages contiguous or scattered (every 97th page, as a group commit's
// dirty leaves are), on an idle CPU and with every core busy in other
// processes (as when the HTTP server runs). It reports ms per sync for
// each of the four.
//
//	go test -run '^$' -bench FsyncPattern -benchtime 1x ./internal/perf
func BenchmarkFsyncPattern(b *testing.B) {
	const (
		pages  = 30
		syncs  = 200
		layout = 40_000 // pages in the file
	)
	f, err := os.Create(filepath.Join(b.TempDir(), "pages"))
	require.NoError(b, err)
	defer f.Close()
	page := make([]byte, 4096)
	for i := range layout {
		_, err := f.WriteAt(page, int64(i)*4096)
		require.NoError(b, err)
	}
	require.NoError(b, f.Sync())
	measure := func(stride int) float64 {
		start := time.Now()
		for s := range syncs {
			base := (s * 1000) % (layout - pages*stride)
			for i := range pages {
				_, err := f.WriteAt(page, int64(base+i*stride)*4096)
				require.NoError(b, err)
			}
			require.NoError(b, syscall.Fdatasync(int(f.Fd()))) // as bbolt syncs
		}
		return ms(time.Since(start)) / syncs
	}
	// busy keeps every core busy from other processes (shell loops), so
	// that only the kernel and the disk are shared, not Go's scheduler.
	busy := func() func() {
		var loops []*exec.Cmd
		for range runtime.NumCPU() {
			cmd := exec.Command("sh", "-c", "while :; do :; done")
			require.NoError(b, cmd.Start())
			loops = append(loops, cmd)
		}
		stop := func() {
			for _, cmd := range loops {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			loops = nil
		}
		b.Cleanup(stop) // also when a measurement fails
		return stop
	}
	b.ResetTimer()
	for range b.N {
		b.ReportMetric(measure(1), "contiguous-ms")
		b.ReportMetric(measure(97), "scattered-ms")
		stop := busy()
		b.ReportMetric(measure(1), "contiguous-busy-ms")
		b.ReportMetric(measure(97), "scattered-busy-ms")
		stop()
	}
}

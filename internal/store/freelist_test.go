package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// noFreelist is bbolt's page id for "the free-page list was not written".
const noFreelist = ^uint64(0)

// metaFreelist reads the free-page list's page id from the newer of the
// file's two meta pages. bbolt's format: a 16-byte page header, then the
// magic, version, page size and flags (4 bytes each), the root bucket
// (16), the free-page list's page id (8), the high-water mark (8) and the
// transaction id (8), in the machine's byte order (little-endian here).
func metaFreelist(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	head := make([]byte, 64<<10) // both meta pages for any page size up to 32 KiB
	n, err := io.ReadFull(f, head)
	if err != io.ErrUnexpectedEOF {
		require.NoError(t, err)
	}
	head = head[:n]
	pageSize := int(binary.LittleEndian.Uint32(head[16+8:]))
	var txid, freelist uint64
	found := false
	for _, off := range []int{0, pageSize} {
		m := head[off+16:]
		if binary.LittleEndian.Uint32(m) != 0xED0CDAED {
			continue
		}
		if tx := binary.LittleEndian.Uint64(m[48:]); !found || tx > txid {
			found, txid, freelist = true, tx, binary.LittleEndian.Uint64(m[32:])
		}
	}
	require.True(t, found, "no meta page in %s", path)
	return freelist
}

// churn creates n jobs named prefix-0 … and rewrites those of prev (if
// not empty), each change with a log line, so that pages are freed and
// reused.
func churn(t *testing.T, db *store.DB, prefix, prev string, n int) {
	t.Helper()
	ctx := context.Background()
	created := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	entry := []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "a line long enough to fill pages"}}
	for i := range n {
		require.NoError(t, db.CreateJob(ctx, newJob(fmt.Sprintf("%s-%d", prefix, i), created, jobs.StatusInProgress), jobs.Effects{Log: entry}))
		if prev != "" { // their old pages are freed
			_, _, err := db.UpdateJob(ctx, fmt.Sprintf("%s-%d", prev, i), func(j *jobs.Job) (jobs.Effects, error) {
				j.Version++
				return jobs.Effects{Log: entry}, nil
			})
			require.NoError(t, err)
		}
	}
}

// openCrashCopy copies the file of a running store, as a kill -9 would
// leave it (every commit is on disk, nothing else is), opens the copy and
// checks it with bbolt's own check.
func openCrashCopy(t *testing.T, path string) *store.DB {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	require.NoError(t, os.WriteFile(crashed, data, 0o600))
	db, err := store.Open(crashed)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Check())
	return db
}

// While the free-page list fits in one page, every commit writes it, so
// an Open after a crash reads it instead of walking every page of the
// file; the list read is right (bbolt's own check on the crashed copy).
func TestCommit_WritesASmallFreePageList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	churn(t, db, "a", "", 300)
	churn(t, db, "b", "a", 300)
	require.NotEqual(t, noFreelist, metaFreelist(t, path), "the last commit did not write the free-page list")

	crashed := openCrashCopy(t, path)
	n, err := crashed.LogCount(context.Background(), "a-299")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

// A free-page list longer than a page (a file whose past backlog was
// deleted) is not written by commits, which would each pay for all of it;
// a crashed copy is then opened by walking the file. Close writes the list
// whatever its size, so the next Open reads it. The lists read and
// rebuilt must be right: pages freed and reused over several close/open
// cycles stay consistent (bbolt's own check).
func TestCommit_SkipsALongFreePageList(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	prev := ""
	for cycle := range 3 {
		db, err := store.Open(path)
		require.NoError(t, err)
		free, err := db.FreePagesForTest(4000)
		require.NoError(t, err)
		require.Greater(t, free, 2000, "cycle %d: the scratch bucket freed too few pages", cycle)
		prefix := fmt.Sprintf("j%d", cycle)
		churn(t, db, prefix, prev, 300)
		prev = prefix
		require.Equal(t, noFreelist, metaFreelist(t, path), "cycle %d: a commit wrote a long free-page list", cycle)
		crashed := openCrashCopy(t, path)
		n, err := crashed.LogCount(ctx, prefix+"-299")
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		require.NoError(t, crashed.Close())

		require.NoError(t, db.Close())
		require.NotEqual(t, noFreelist, metaFreelist(t, path), "cycle %d: Close did not write the free-page list", cycle)
		require.NoError(t, db.Close(), "a second Close is harmless")
	}
	db, err := store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Check())
	n, err := db.LogCount(ctx, "j1-299")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

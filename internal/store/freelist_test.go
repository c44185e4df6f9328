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

// Commits do not write the free-page list (the next Open after a crash
// rebuilds it by walking the file); Close writes it, so the next Open
// reads it. The list read must be right: pages freed and reused over
// several close/open cycles stay consistent (bbolt's own check).
func TestClose_WritesTheFreePageList(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	created := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	entry := []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "a line long enough to fill pages"}}
	for cycle := range 3 {
		db, err := store.Open(path)
		require.NoError(t, err)
		for i := range 300 {
			id := fmt.Sprintf("j-%d-%d", cycle, i)
			require.NoError(t, db.CreateJob(ctx, newJob(id, created, jobs.StatusInProgress), jobs.Effects{Log: entry}))
			if cycle > 0 { // rewrite the last cycle's jobs: their old pages are freed
				_, _, err := db.UpdateJob(ctx, fmt.Sprintf("j-%d-%d", cycle-1, i), func(j *jobs.Job) (jobs.Effects, error) {
					j.Version++
					return jobs.Effects{Log: entry}, nil
				})
				require.NoError(t, err)
			}
		}
		require.Equal(t, noFreelist, metaFreelist(t, path), "cycle %d: a commit wrote the free-page list", cycle)
		require.NoError(t, db.Close())
		require.NotEqual(t, noFreelist, metaFreelist(t, path), "cycle %d: Close did not write the free-page list", cycle)
		require.NoError(t, db.Close(), "a second Close is harmless")
	}
	db, err := store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Check())
	n, err := db.LogCount(ctx, "j-1-299")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

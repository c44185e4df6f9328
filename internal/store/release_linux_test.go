package store_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/store"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// Opening a file walks every page (NoFreelistSync); the walk must not
// leave the file resident in the process.
func TestOpen_ReleasesTheOpenScan(t *testing.T) {
	const size = 48 << 20
	path := filepath.Join(t.TempDir(), "cla.db")
	raw, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	require.NoError(t, err)
	value := bytes.Repeat([]byte("x"), 4000)
	require.NoError(t, raw.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("filler"))
		if err != nil {
			return err
		}
		for i := range size / len(value) {
			if err := b.Put(fmt.Appendf(nil, "%08d", i), value); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, raw.Close())

	before := rssFile(t)
	db, err := store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	grew := rssFile(t) - before
	require.Less(t, grew, int64(size/4), "opening a %d MB file left %d MB of it resident", size>>20, grew>>20)
}

// rssFile is this process's file-backed resident memory, in bytes.
func rssFile(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

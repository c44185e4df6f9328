package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseOpenScan gives back the pages that opening the file read. When
// the last commit did not write the free-page list (see
// writeSmallFreelist), bbolt finds the free pages by walking every page of
// the file, so after Open the whole file sits in this process's resident set
// (as clean, file-backed pages). MADV_DONTNEED on bbolt's read-only shared
// mapping drops them from the process only: the bytes stay in the page
// cache, and a page the store reads again is mapped again on first touch.
// It runs before the DB is returned, when no transaction can read the
// mapping. A failure only leaves the pages resident, so it is ignored.
func releaseOpenScan(b *bolt.DB) {
	var size int64
	_ = b.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	if size <= 0 {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, b.Info().Data, uintptr(size), syscall.MADV_DONTNEED)
}

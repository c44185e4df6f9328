//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseOpenScan is a no-op where MADV_DONTNEED is not used: the pages the
// open scan read stay resident until the kernel reclaims them.
func releaseOpenScan(*bolt.DB) {}

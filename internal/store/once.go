package store

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// Once records key and reports whether it is new.
func (db *DB) Once(ctx context.Context, key string) (bool, error) {
	first := false
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOnce)
		first = b.Get([]byte(key)) == nil
		if !first {
			return nil
		}
		return b.Put([]byte(key), u64(uint64(db.now().UnixNano())))
	})
	return first, err
}

// spend records single-use keys in the transaction of the change that
// uses them; a key spent before refuses the whole change. Every key is
// checked before any is written: a refusal is a domain error, which the
// group commit carries out without rolling the transaction back, so it
// must leave nothing behind.
func (db *DB) spend(tx *bolt.Tx, keys []string) error {
	b := tx.Bucket(bucketOnce)
	for _, k := range keys {
		if b.Get([]byte(k)) != nil {
			return jobs.Errorf(jobs.ECONFLICT, "this link was already used")
		}
	}
	for _, k := range keys {
		if err := b.Put([]byte(k), u64(uint64(db.now().UnixNano()))); err != nil {
			return fmt.Errorf("spend %s: %w", k, err)
		}
	}
	return nil
}

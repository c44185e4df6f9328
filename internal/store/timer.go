package store

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DueJobs reads the timer index: ids of jobs due at or before t, earliest
// first, and the next wake time after them.
func (db *DB) DueJobs(ctx context.Context, t time.Time, limit int) ([]string, time.Time, error) {
	var ids []string
	var next time.Time
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTimers).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
			if at.After(t) || len(ids) == limit {
				next = at
				return nil
			}
			ids = append(ids, string(k[8:]))
		}
		return nil
	})
	return ids, next, err
}

package store

import (
	bolt "go.etcd.io/bbolt"
)

// DropIndexesForTest makes the file at path look as written before the
// outbox and waiting indexes existed: they are emptied and unmarked.
func DropIndexesForTest(path string) error {
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	defer b.Close()
	return b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketOutboxLanes, bucketOutboxHeads, bucketOutboxScope, bucketWaiting, bucketMeta} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
}

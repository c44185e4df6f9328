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

// FreePagesForTest frees about n pages of the store's file, as deleting
// a past backlog would: it writes a scratch bucket of n pages' worth of
// values in one commit and deletes it in the next. It returns the free
// and pending pages bbolt counts afterwards.
func (db *DB) FreePagesForTest(n int) (int, error) {
	value := make([]byte, 3*db.bolt.Info().PageSize)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("scratch"))
		if err != nil {
			return err
		}
		for i := range n / 4 { // a value this size takes 4 pages
			if err := b.Put([]byte{byte(i >> 16), byte(i >> 8), byte(i)}, value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) }); err != nil {
		return 0, err
	}
	s := db.bolt.Stats()
	return s.FreePageN + s.PendingPageN, nil
}

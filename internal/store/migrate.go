package store

import (
	bolt "go.etcd.io/bbolt"
)

// Index versions: an index added after files were written is built once,
// at Open, from the records it derives from (the only full scans, and
// never on a hot path).
var migrations = []struct {
	key   string
	build func(tx *bolt.Tx) error
}{
	{"index:outbox:1", rebuildOutbox},
	{"index:waiting:1", rebuildWaiting},
}

func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	for _, m := range migrations {
		if meta.Get([]byte(m.key)) != nil {
			continue
		}
		if err := m.build(tx); err != nil {
			return err
		}
		if err := meta.Put([]byte(m.key), []byte{1}); err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// Dedupe keys and their times. A once value is the time it was recorded
// (8 bytes, Unix nanoseconds). A log_keys or outbox_ids value is the log
// or outbox sequence (8 bytes) followed by that time; files written before
// keys had a time hold the sequence alone, and a prune sweep stamps those
// with the time it first sees them.

// stamped returns seq followed by t.
func stamped(seq []byte, t time.Time) []byte {
	return append(bytes.Clone(seq[:8]), u64(uint64(t.UnixNano()))...)
}

// seqOf returns the sequence a log_keys or outbox_ids value starts with,
// or nil if the value is too short to hold one.
func seqOf(v []byte) []byte {
	if len(v) < 8 {
		return nil
	}
	return v[:8]
}

// pruneBuckets are swept in this order, each from its first key.
var pruneBuckets = [][]byte{bucketOnce, bucketLogKeys, bucketOutboxIDs}

// sweep is where the current prune sweep stands: the bucket and the last
// key looked at. It lives in memory; a restart starts a new sweep.
type sweep struct {
	bucket int
	after  []byte
}

// pruneAction is what a sweep decided for one key, applied in a write
// transaction only if the value is still the one it saw.
type pruneAction struct {
	bucket []byte
	key    []byte
	seen   []byte
	stamp  bool // true: stamp with the current time; false: delete
}

// PruneKeys looks at up to limit dedupe keys from where the last call
// stopped, in a read transaction, then applies what it found (deletes and
// stamps) in one short write transaction that re-checks each key, so a key
// rewritten in between is left alone. A pending notification's id is never
// deleted.
func (db *DB) PruneKeys(ctx context.Context, before time.Time, limit int) (jobs.PruneResult, error) {
	if limit <= 0 {
		return jobs.PruneResult{}, jobs.Errorf(jobs.EINVALID, "prune limit must be positive, not %d", limit)
	}
	if err := ctx.Err(); err != nil {
		return jobs.PruneResult{}, err
	}
	db.pruneMu.Lock()
	defer db.pruneMu.Unlock()
	cut := before.UnixNano()
	var acts []pruneAction
	more := true
	err := db.bolt.View(func(tx *bolt.Tx) error {
		acts, more = db.scanPrune(tx, cut, limit)
		return nil
	})
	if err != nil {
		return jobs.PruneResult{}, fmt.Errorf("scan dedupe keys: %w", err)
	}
	var res jobs.PruneResult
	if len(acts) > 0 {
		now := db.now()
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			res = jobs.PruneResult{}
			writeSmallFreelist(tx)
			return applyPrune(tx, acts, now, &res)
		})
		if err != nil {
			return jobs.PruneResult{}, fmt.Errorf("prune dedupe keys: %w", err)
		}
	}
	res.More = more
	return res, nil
}

// scanPrune walks the sweep forward over at most limit keys and reports
// whether the sweep has keys left.
func (db *DB) scanPrune(tx *bolt.Tx, cut int64, limit int) ([]pruneAction, bool) {
	var acts []pruneAction
	items := tx.Bucket(bucketOutbox)
	seen := 0
	for db.sweep.bucket < len(pruneBuckets) {
		name := pruneBuckets[db.sweep.bucket]
		c := tx.Bucket(name).Cursor()
		k, v := c.First()
		if db.sweep.after != nil {
			k, v = c.Seek(db.sweep.after)
			if k != nil && bytes.Equal(k, db.sweep.after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if seen == limit {
				return acts, true
			}
			seen++
			db.sweep.after = bytes.Clone(k)
			if a, ok := decidePrune(name, k, v, cut, items); ok {
				acts = append(acts, a)
			}
		}
		db.sweep.bucket++
		db.sweep.after = nil
	}
	db.sweep = sweep{} // the sweep is over; the next call starts another
	return acts, false
}

// decidePrune says what to do with one key: stamp it (no time yet),
// delete it (older than cut and not a pending notification) or nothing.
func decidePrune(bucket, k, v []byte, cut int64, items *bolt.Bucket) (pruneAction, bool) {
	a := pruneAction{bucket: bucket, key: bytes.Clone(k), seen: bytes.Clone(v)}
	var at []byte
	if bytes.Equal(bucket, bucketOnce) {
		at = v
	} else {
		if len(v) < 8 {
			return a, false // malformed; Check reports it, pruning leaves it
		}
		at = v[8:]
		if bytes.Equal(bucket, bucketOutboxIDs) && items.Get(v[:8]) != nil {
			return a, false // pending: its id is its only dedupe
		}
	}
	if len(at) != 8 {
		a.stamp = true
		return a, true
	}
	if int64(binary.BigEndian.Uint64(at)) >= cut {
		return a, false
	}
	return a, true
}

// applyPrune deletes or stamps the keys whose value is still the one the
// scan saw.
func applyPrune(tx *bolt.Tx, acts []pruneAction, now time.Time, res *jobs.PruneResult) error {
	items := tx.Bucket(bucketOutbox)
	for _, a := range acts {
		b := tx.Bucket(a.bucket)
		if !bytes.Equal(b.Get(a.key), a.seen) {
			continue
		}
		if !a.stamp {
			if bytes.Equal(a.bucket, bucketOutboxIDs) && items.Get(a.seen[:8]) != nil {
				continue
			}
			if err := b.Delete(a.key); err != nil {
				return fmt.Errorf("delete %s key %q: %w", a.bucket, a.key, err)
			}
			res.Deleted++
			continue
		}
		v := u64(uint64(now.UnixNano()))
		if !bytes.Equal(a.bucket, bucketOnce) {
			v = stamped(a.seen, now)
		}
		if err := b.Put(a.key, v); err != nil {
			return fmt.Errorf("stamp %s key %q: %w", a.bucket, a.key, err)
		}
		res.Stamped++
	}
	return nil
}

package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
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

// enqueue adds notifications to the outbox; an id seen before is dropped.
func enqueue(tx *bolt.Tx, ns []jobs.Notification) error {
	outbox, ids := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxIDs)
	for _, n := range ns {
		if ids.Get([]byte(n.ID)) != nil {
			continue
		}
		seq, _ := outbox.NextSequence()
		data, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", n.ID, err)
		}
		if err := outbox.Put(u64(seq), data); err != nil {
			return err
		}
		if err := ids.Put([]byte(n.ID), u64(seq)); err != nil {
			return err
		}
	}
	return nil
}

// Outbox returns pending notifications due at or before t, oldest first,
// and the earliest due time among the others.
func (db *DB) Outbox(ctx context.Context, t time.Time, limit int) ([]jobs.Notification, time.Time, error) {
	var out []jobs.Notification
	var next time.Time
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var n jobs.Notification
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("decode notification: %w", err)
			}
			if !n.DueAt.After(t) && len(out) < limit {
				out = append(out, n)
			} else if next.IsZero() || n.DueAt.Before(next) {
				next = n.DueAt
			}
			return nil
		})
	})
	return out, next, err
}

// SettleNotification removes a delivered notification; its id stays known
// so that the same cause is never enqueued again.
func (db *DB) SettleNotification(ctx context.Context, id string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketOutboxIDs).Get([]byte(id))
		if seq == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "notification %s not found", id)
		}
		return tx.Bucket(bucketOutbox).Delete(seq)
	})
}

// DeferNotification records a failed attempt and the next due time.
func (db *DB) DeferNotification(ctx context.Context, id string, next time.Time, lastErr string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketOutboxIDs).Get([]byte(id))
		outbox := tx.Bucket(bucketOutbox)
		var data []byte
		if seq != nil {
			data = outbox.Get(seq)
		}
		if data == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "notification %s not pending", id)
		}
		var n jobs.Notification
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("decode notification %s: %w", id, err)
		}
		n.Attempts++
		n.DueAt, n.LastError = next, lastErr
		data, err := json.Marshal(n)
		if err != nil {
			return err
		}
		return outbox.Put(seq, data)
	})
}

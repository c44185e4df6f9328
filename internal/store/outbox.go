package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// The outbox keeps each notification once, under its sequence number, and
// three indexes written in the same transactions:
//
//   - lanes: lane + 0xff + seq, so a lane's pending notifications are
//     read in order from its first key (0xff never occurs in UTF-8);
//   - heads: due + seq → lane, holding only each lane's deliverable head,
//     so a pass reads the heads that are due and stops at the first that
//     is not, whatever the backlog behind them;
//   - scope: type + 0xff + job + 0xff + seq for notifications with a
//     target, so a targetless one (which must not overtake them) learns in
//     one seek whether an older one is still pending.
//
// A targetless head waiting behind an older targeted notification is
// left out of heads, and put back when that one settles.

var keyPendingCount = []byte("outbox_pending")

// outboxTx is the outbox buckets of one transaction.
type outboxTx struct {
	items, ids, lanes, heads, scope, meta *bolt.Bucket
}

func outboxOf(tx *bolt.Tx) *outboxTx {
	return &outboxTx{items: tx.Bucket(bucketOutbox), ids: tx.Bucket(bucketOutboxIDs), lanes: tx.Bucket(bucketOutboxLanes),
		heads: tx.Bucket(bucketOutboxHeads), scope: tx.Bucket(bucketOutboxScope), meta: tx.Bucket(bucketMeta)}
}

func lanePrefix(lane string) []byte { return append([]byte(lane), 0xff) }

func scopePrefix(typ, jobID string) []byte {
	return append(append(append([]byte(typ), 0xff), jobID...), 0xff)
}

// firstUnder returns the rest of the first key under prefix, or nil.
func firstUnder(b *bolt.Bucket, prefix []byte) []byte {
	k, _ := b.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil
	}
	return k[len(prefix):]
}

func (o *outboxTx) get(seq []byte) (jobs.Notification, error) {
	var n jobs.Notification
	data := o.items.Get(seq)
	if data == nil {
		return n, fmt.Errorf("outbox index names missing notification %d", binary.BigEndian.Uint64(seq))
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("decode notification %d: %w", binary.BigEndian.Uint64(seq), err)
	}
	return n, nil
}

// blocked reports whether a targetless notification must still wait for
// an older targeted one of the same type and job.
func (o *outboxTx) blocked(n jobs.Notification, seq []byte) bool {
	if n.Channel.Target() != "" {
		return false
	}
	first := firstUnder(o.scope, scopePrefix(string(n.Channel.Type), n.JobID))
	return first != nil && bytes.Compare(first, seq) < 0
}

// promote puts the lane's current head into the heads index when it may
// be delivered. It is idempotent.
func (o *outboxTx) promote(lane string) error {
	seq := firstUnder(o.lanes, lanePrefix(lane))
	if seq == nil {
		return nil
	}
	seq = bytes.Clone(seq)
	n, err := o.get(seq)
	if err != nil || o.blocked(n, seq) {
		return err
	}
	return o.heads.Put(timeKey(n.DueAt, string(seq)), []byte(lane))
}

// index adds a stored notification to the lanes and scope indexes.
func (o *outboxTx) index(n jobs.Notification, seq []byte) error {
	if err := o.lanes.Put(append(lanePrefix(n.Lane()), seq...), nil); err != nil {
		return err
	}
	if n.Channel.Target() == "" {
		return nil
	}
	return o.scope.Put(append(scopePrefix(string(n.Channel.Type), n.JobID), seq...), nil)
}

func (o *outboxTx) addPending(d int64) error {
	var n int64
	if v := o.meta.Get(keyPendingCount); v != nil {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return o.meta.Put(keyPendingCount, u64(uint64(max(n+d, 0))))
}

func (o *outboxTx) pending() int {
	if v := o.meta.Get(keyPendingCount); v != nil {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}

// enqueue adds notifications to the outbox; an id seen before is dropped.
func enqueue(tx *bolt.Tx, ns []jobs.Notification, now time.Time) error {
	if len(ns) == 0 {
		return nil
	}
	o := outboxOf(tx)
	for _, n := range ns {
		if o.ids.Get([]byte(n.ID)) != nil {
			continue
		}
		next, err := o.items.NextSequence()
		if err != nil {
			return fmt.Errorf("outbox sequence: %w", err)
		}
		seq := u64(next)
		data, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", n.ID, err)
		}
		if err := o.items.Put(seq, data); err != nil {
			return err
		}
		if err := o.ids.Put([]byte(n.ID), stamped(seq, now)); err != nil {
			return fmt.Errorf("record notification id %s: %w", n.ID, err)
		}
		if err := o.index(n, seq); err != nil {
			return err
		}
		if err := o.promote(n.Lane()); err != nil {
			return err
		}
		if err := o.addPending(1); err != nil {
			return err
		}
	}
	return nil
}

// OutboxDue reads the heads index from its earliest entry and stops at
// the first head not due: the notifications behind a failing head, or
// behind one not due yet, are never read.
func (db *DB) OutboxDue(ctx context.Context, q jobs.OutboxQuery) (jobs.OutboxWork, error) {
	var work jobs.OutboxWork
	maxLanes, perLane := q.Limits()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		o := outboxOf(tx)
		work.Pending = o.pending()
		c := o.heads.Cursor()
		for k, v := c.First(); k != nil && len(work.Lanes) < maxLanes; k, v = c.Next() {
			if at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(); at.After(q.At) {
				work.Next = at
				return nil
			}
			lane := string(v)
			if q.Skip != nil && q.Skip(lane) {
				continue
			}
			items, err := o.leading(lane, q.At, perLane)
			if err != nil {
				return err
			}
			if len(items) > 0 {
				work.Lanes = append(work.Lanes, jobs.OutboxLane{Key: lane, Items: items})
			}
		}
		return nil
	})
	return work, err
}

// leading returns the lane's first notifications up to the first one not
// due, or blocked behind an older targeted one, or the limit.
func (o *outboxTx) leading(lane string, at time.Time, limit int) ([]jobs.Notification, error) {
	var out []jobs.Notification
	prefix := lanePrefix(lane)
	c := o.lanes.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
		seq := k[len(prefix):]
		n, err := o.get(seq)
		if err != nil {
			return nil, err
		}
		if n.DueAt.After(at) || o.blocked(n, seq) {
			break
		}
		out = append(out, n)
	}
	return out, nil
}

// Outbox returns pending notifications due at or before t, oldest first,
// and the earliest due time among the others. It reads the whole outbox:
// it is for inspection and tests, the worker uses OutboxDue.
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

// pendingSeq finds a pending notification by id.
func (o *outboxTx) pendingSeq(id string) ([]byte, jobs.Notification, error) {
	seq := seqOf(o.ids.Get([]byte(id)))
	if seq == nil || o.items.Get(seq) == nil {
		return nil, jobs.Notification{}, jobs.Errorf(jobs.ENOTFOUND, "notification %s not pending", id)
	}
	seq = bytes.Clone(seq)
	n, err := o.get(seq)
	return seq, n, err
}

// SettleNotification removes a delivered notification; its id stays known
// so that the same cause is never enqueued again. The lane's next
// notification becomes its head, and a targetless one waiting for this
// one may become deliverable.
func (db *DB) SettleNotification(ctx context.Context, id string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		o := outboxOf(tx)
		seq, n, err := o.pendingSeq(id)
		if err != nil {
			return err
		}
		for _, del := range []struct {
			b   *bolt.Bucket
			key []byte
		}{{o.items, seq}, {o.lanes, append(lanePrefix(n.Lane()), seq...)},
			{o.heads, timeKey(n.DueAt, string(seq))}} {
			if err := del.b.Delete(del.key); err != nil {
				return err
			}
		}
		if n.Channel.Target() != "" {
			if err := o.scope.Delete(append(scopePrefix(string(n.Channel.Type), n.JobID), seq...)); err != nil {
				return err
			}
			waiting := jobs.Notification{JobID: n.JobID, Channel: jobs.NotifyChannel{Type: n.Channel.Type}}
			if err := o.promote(waiting.Lane()); err != nil {
				return err
			}
		}
		if err := o.promote(n.Lane()); err != nil {
			return err
		}
		return o.addPending(-1)
	})
}

// DeferNotification records a failed attempt and the next due time; a
// lane head moves to its new place in the heads index.
func (db *DB) DeferNotification(ctx context.Context, id string, next time.Time, lastErr string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		o := outboxOf(tx)
		seq, n, err := o.pendingSeq(id)
		if err != nil {
			return err
		}
		oldHead := timeKey(n.DueAt, string(seq))
		isHead := o.heads.Get(oldHead) != nil
		n.Attempts++
		n.DueAt, n.LastError = next, lastErr
		data, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", id, err)
		}
		if err := o.items.Put(seq, data); err != nil {
			return err
		}
		if !isHead {
			return nil
		}
		if err := o.heads.Delete(oldHead); err != nil {
			return err
		}
		return o.heads.Put(timeKey(next, string(seq)), []byte(n.Lane()))
	})
}

// rebuildOutbox derives the outbox indexes from the notifications: once,
// when a file written before they existed is opened.
func rebuildOutbox(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketOutboxLanes, bucketOutboxHeads, bucketOutboxScope} {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	o := outboxOf(tx)
	lanes := map[string]bool{}
	count := 0
	err := o.items.ForEach(func(k, v []byte) error {
		var n jobs.Notification
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("decode notification: %w", err)
		}
		lanes[n.Lane()] = true
		count++
		return o.index(n, bytes.Clone(k))
	})
	if err != nil {
		return err
	}
	for lane := range lanes {
		if err := o.promote(lane); err != nil {
			return err
		}
	}
	return o.meta.Put(keyPendingCount, u64(uint64(count)))
}

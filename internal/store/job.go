package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// CreateJob stores a new job with its first effects in one transaction.
func (db *DB) CreateJob(ctx context.Context, job *jobs.Job, fx jobs.Effects) error {
	log, err := encodeLog(fx.Log)
	if err != nil {
		return err
	}
	return db.batch(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketJobs).Get([]byte(job.ID)) != nil {
			return jobs.Errorf(jobs.ECONFLICT, "job %s already exists", job.ID)
		}
		if err := putJob(tx, nil, job); err != nil {
			return err
		}
		if err := putAnnotations(tx, job.ID, fx.Annotations); err != nil {
			return err
		}
		if _, err := appendLog(tx, job.ID, log, db.now()); err != nil {
			return err
		}
		return enqueue(tx, fx.Notify, db.now())
	})
}

// UpdateJob loads, changes and writes one job with its effects atomically.
//
// The record is read, decoded, changed and encoded outside the write
// transaction, concurrently with other changes; the group-committed
// transaction then only checks that the record is still the one read
// (else the change is made again on the new record) and writes. So the
// one writer's time goes to the writes, not to JSON. A job changed under
// it optimisticRetries times in a row is changed inside the transaction,
// where nothing can overtake it.
func (db *DB) UpdateJob(ctx context.Context, id string, fn func(*jobs.Job) (jobs.Effects, error)) (*jobs.Job, []jobs.LogEntry, error) {
	for range optimisticRetries {
		job, added, ok, err := db.updateOptimistic(ctx, id, fn)
		if ok || err != nil {
			return job, added, err
		}
	}
	return db.updateLocked(ctx, id, fn)
}

// optimisticRetries is how often UpdateJob changes a job outside the write
// transaction before it changes it inside.
const optimisticRetries = 3

// updateOptimistic makes the change on the record as read now, and writes
// it if the record is still the same in the write transaction. ok is false
// when it was not (nothing was written).
func (db *DB) updateOptimistic(ctx context.Context, id string, fn func(*jobs.Job) (jobs.Effects, error)) (job *jobs.Job, added []jobs.LogEntry, ok bool, err error) {
	prep := db.commit.prepare() // a commit about to start waits briefly for this change
	defer prep.abandon()
	var raw []byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		raw = bytes.Clone(tx.Bucket(bucketJobs).Get([]byte(id)))
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	if raw == nil {
		return nil, nil, false, jobs.Errorf(jobs.ENOTFOUND, "job %s not found", id)
	}
	j, err := decodeJob(raw)
	if err != nil {
		return nil, nil, false, err
	}
	old := indexedOf(j)
	fx, err := fn(j)
	if err != nil {
		return nil, nil, false, err // as of the record read: nothing written
	}
	data, err := encodeJob(j)
	if err != nil {
		return nil, nil, false, err
	}
	log, err := encodeLog(fx.Log)
	if err != nil {
		return nil, nil, false, err
	}
	err = db.batchPrepared(ctx, prep, func(tx *bolt.Tx) error {
		ok = false
		if !bytes.Equal(tx.Bucket(bucketJobs).Get([]byte(id)), raw) {
			return nil // changed since it was read: nothing written
		}
		// The channel check refuses before the keys are spent: a domain
		// error must leave nothing behind in the shared transaction.
		if err := checkChannels(tx, &old, j); err != nil {
			return err
		}
		if err := db.spend(tx, fx.Once); err != nil {
			return err
		}
		if err := putJobData(tx, &old, j, data); err != nil {
			return err
		}
		if err := putAnnotations(tx, id, fx.Annotations); err != nil {
			return err
		}
		var err error
		if added, err = appendLog(tx, id, log, db.now()); err != nil {
			return err
		}
		if err := enqueue(tx, fx.Notify, db.now()); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	if !ok {
		return nil, nil, false, nil
	}
	return j, added, true, nil
}

// updateLocked reads, changes and writes the job inside the write
// transaction.
func (db *DB) updateLocked(ctx context.Context, id string, fn func(*jobs.Job) (jobs.Effects, error)) (*jobs.Job, []jobs.LogEntry, error) {
	var job *jobs.Job
	var added []jobs.LogEntry
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		j, err := getJob(tx, id)
		if err != nil {
			return err
		}
		old := indexedOf(j)
		fx, err := fn(j)
		if err != nil {
			return err
		}
		log, err := encodeLog(fx.Log)
		if err != nil {
			return err
		}
		// The channel check refuses before the keys are spent: a domain
		// error must leave nothing behind in the shared transaction.
		if err := checkChannels(tx, &old, j); err != nil {
			return err
		}
		if err := db.spend(tx, fx.Once); err != nil {
			return err
		}
		if err := putJob(tx, &old, j); err != nil {
			return err
		}
		if err := putAnnotations(tx, id, fx.Annotations); err != nil {
			return err
		}
		if added, err = appendLog(tx, id, log, db.now()); err != nil {
			return err
		}
		job = j
		return enqueue(tx, fx.Notify, db.now())
	})
	if err != nil {
		return nil, nil, err
	}
	return job, added, nil
}

// GetJob returns a fresh copy of a job.
func (db *DB) GetJob(ctx context.Context, id string) (*jobs.Job, error) {
	var job *jobs.Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		job, err = getJob(tx, id)
		return err
	})
	return job, err
}

// indexed is what the indexes know of a job, taken before a change so
// that the change can move its entries.
type indexed struct {
	status   jobs.Status
	wake     time.Time
	channels map[string]bool
	messages map[string]bool
	waiting  []string
}

func indexedOf(j *jobs.Job) indexed {
	ix := indexed{status: j.Status, wake: j.NextWake(), channels: map[string]bool{}, messages: map[string]bool{},
		waiting: j.WaitingKeys()}
	for _, c := range j.Channels {
		ix.channels[c.ID] = true
	}
	for _, g := range j.Gates {
		for _, m := range g.Messages {
			ix.messages[string(messageKey(m.Channel, m.TS))] = true
		}
	}
	return ix
}

// messageKey indexes a gate announcement, so that a thread reply under it
// finds its job whatever the channel is bound to.
func messageKey(channel, ts string) []byte { return []byte(channel + "\x00" + ts) }

// putJob writes the record and moves its index entries from old (nil for a
// new job) to the new values.
func putJob(tx *bolt.Tx, old *indexed, j *jobs.Job) error {
	data, err := encodeJob(j)
	if err != nil {
		return err
	}
	return putJobData(tx, old, j, data)
}

// putJobData is putJob with the record already encoded.
func putJobData(tx *bolt.Tx, old *indexed, j *jobs.Job, data []byte) error {
	if err := checkChannels(tx, old, j); err != nil {
		return err // before any write: a domain error must leave nothing behind
	}
	if err := tx.Bucket(bucketJobs).Put([]byte(j.ID), data); err != nil {
		return err
	}
	return reindex(tx, old, j)
}

// checkChannels refuses a channel newly bound to j that serves another
// job: the check is in the transaction, so concurrent binds cannot both win.
func checkChannels(tx *bolt.Tx, old *indexed, j *jobs.Job) error {
	for _, c := range j.Channels {
		if old != nil && old.channels[c.ID] {
			continue
		}
		if owner := tx.Bucket(bucketChannels).Get([]byte(c.ID)); owner != nil && string(owner) != j.ID {
			return jobs.Errorf(jobs.ECONFLICT, "channel #%s is already bound to job %s", c.Name, owner)
		}
	}
	return nil
}

func reindex(tx *bolt.Tx, old *indexed, j *jobs.Job) error {
	status, timers, channels := tx.Bucket(bucketStatus), tx.Bucket(bucketTimers), tx.Bucket(bucketChannels)
	if old == nil {
		if err := tx.Bucket(bucketCreated).Put(timeKey(j.CreatedAt, j.ID), nil); err != nil {
			return err
		}
	}
	if old == nil || old.status != j.Status {
		if old != nil {
			if err := status.Delete(statusKey(old.status, j)); err != nil {
				return fmt.Errorf("unindex status of %s: %w", j.ID, err)
			}
		}
		if err := status.Put(statusKey(j.Status, j), nil); err != nil {
			return err
		}
	}
	if old == nil || !old.wake.Equal(j.NextWake()) {
		if old != nil && !old.wake.IsZero() {
			if err := timers.Delete(timeKey(old.wake, j.ID)); err != nil {
				return fmt.Errorf("unindex timer of %s: %w", j.ID, err)
			}
		}
		if w := j.NextWake(); !w.IsZero() {
			if err := timers.Put(timeKey(w, j.ID), nil); err != nil {
				return err
			}
		}
	}
	for _, c := range j.Channels {
		if old == nil || !old.channels[c.ID] {
			if err := channels.Put([]byte(c.ID), []byte(j.ID)); err != nil {
				return err
			}
		}
	}
	var was []string
	if old != nil {
		was = old.waiting
	}
	if err := reindexWaiting(tx.Bucket(bucketWaiting), j, was, j.WaitingKeys()); err != nil {
		return err
	}
	return indexMessages(tx.Bucket(bucketMessages), old, j)
}

// indexMessages adds the gate announcements j did not have before.
func indexMessages(b *bolt.Bucket, old *indexed, j *jobs.Job) error {
	for _, g := range j.Gates {
		for _, m := range g.Messages {
			k := messageKey(m.Channel, m.TS)
			if old != nil && old.messages[string(k)] {
				continue
			}
			if err := b.Put(k, []byte(j.ID)); err != nil {
				return fmt.Errorf("index announcement %s/%s: %w", m.Channel, m.TS, err)
			}
		}
	}
	return nil
}

func statusKey(s jobs.Status, j *jobs.Job) []byte {
	return append(append([]byte(s), 0), timeKey(j.CreatedAt, j.ID)...)
}

// ListJobs pages through the created index (or one status's index),
// newest first. The cursor names the first key not returned yet.
func (db *DB) ListJobs(ctx context.Context, q jobs.ListQuery) (jobs.JobPage, error) {
	page := jobs.JobPage{Jobs: []*jobs.Job{}}
	prefix, bucket := []byte(nil), bucketCreated
	if q.Status != "" {
		prefix, bucket = append([]byte(q.Status), 0), bucketStatus
	}
	cursor, err := decodeCursor(q.Cursor)
	if err != nil {
		return page, err
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		k := seekBefore(c, prefix, cursor)
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(page.Jobs) == q.Limit {
				page.Next = encodeCursor(k[len(prefix):], true)
				return nil
			}
			job, err := getJob(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			page.Jobs = append(page.Jobs, job)
		}
		return nil
	})
	return page, err
}

// seekBefore positions c on the newest key under prefix that sorts before
// the cursor key (or the newest of all when there is no cursor).
func seekBefore(c *bolt.Cursor, prefix, cursor []byte) []byte {
	if cursor != nil {
		target := append(append([]byte(nil), prefix...), cursor...)
		k, _ := c.Seek(target)
		switch {
		case k == nil:
			k, _ = c.Last()
		case !bytes.Equal(k, target): // the job moved to another status since
			k, _ = c.Prev()
		}
		return k // the cursor key itself was not returned yet
	}
	end := append(append([]byte(nil), prefix...), 0xff)
	if prefix == nil {
		k, _ := c.Last()
		return k
	}
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
		return k
	}
	k, _ = c.Prev()
	return k
}

func encodeCursor(key []byte, _ bool) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 {
		return nil, jobs.Errorf(jobs.EINVALID, "cursor %q is not valid", s)
	}
	return b, nil
}

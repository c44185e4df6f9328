package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	jsonv1 "github.com/go-json-experiment/json/v1"
	bolt "go.etcd.io/bbolt"
)

// AppendLog appends entries to a job's log through group commit, dropping
// entries whose Key was seen for the job before.
func (db *DB) AppendLog(ctx context.Context, jobID string, entries []jobs.LogEntry) ([]jobs.LogEntry, error) {
	var added []jobs.LogEntry
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketJobs).Get([]byte(jobID)) == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "job %s not found", jobID)
		}
		var err error
		added, err = appendLog(tx, jobID, entries, db.now())
		return err
	})
	return added, err
}

// appendLog writes entries under the job's log bucket with the next
// sequence numbers, skipping keys already seen; a new key is recorded
// with its time (now) so that maintenance can prune it.
func appendLog(tx *bolt.Tx, jobID string, entries []jobs.LogEntry, now time.Time) ([]jobs.LogEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	logs, err := tx.Bucket(bucketLogs).CreateBucketIfNotExists([]byte(jobID))
	if err != nil {
		return nil, fmt.Errorf("log bucket %s: %w", jobID, err)
	}
	keys := tx.Bucket(bucketLogKeys)
	out := make([]jobs.LogEntry, 0, len(entries))
	for _, e := range entries {
		var dedupe []byte
		if e.Key != "" {
			dedupe = append(append([]byte(jobID), 0), e.Key...)
			if keys.Get(dedupe) != nil {
				continue
			}
		}
		seq, err := logs.NextSequence()
		if err != nil {
			return nil, fmt.Errorf("log sequence %s: %w", jobID, err)
		}
		e.Seq = seq
		data, err := jsonv1.Marshal(e) // as encoding/json, inside the commit: the faster the better
		if err != nil {
			return nil, fmt.Errorf("encode log entry: %w", err)
		}
		if err := logs.Put(u64(seq), data); err != nil {
			return nil, fmt.Errorf("write log entry %s/%d: %w", jobID, seq, err)
		}
		if dedupe != nil {
			if err := keys.Put(dedupe, stamped(u64(seq), now)); err != nil {
				return nil, fmt.Errorf("write log key %s/%s: %w", jobID, e.Key, err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Log returns up to limit entries with Seq > after.
func (db *DB) Log(ctx context.Context, jobID string, after uint64, limit int) ([]jobs.LogEntry, error) {
	out := []jobs.LogEntry{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		logs := tx.Bucket(bucketLogs).Bucket([]byte(jobID))
		if logs == nil {
			return nil
		}
		c := logs.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var e jobs.LogEntry
			if err := jsonv1.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode log entry %s/%d: %w", jobID, binary.BigEndian.Uint64(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cla-ops/cla/jobs"
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
		added, err = appendLog(tx, jobID, entries)
		return err
	})
	return added, err
}

// appendLog writes entries under the job's log bucket with the next
// sequence numbers, skipping keys already seen.
func appendLog(tx *bolt.Tx, jobID string, entries []jobs.LogEntry) ([]jobs.LogEntry, error) {
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
		seq, _ := logs.NextSequence()
		e.Seq = seq
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode log entry: %w", err)
		}
		if err := logs.Put(u64(seq), data); err != nil {
			return nil, err
		}
		if dedupe != nil {
			if err := keys.Put(dedupe, u64(seq)); err != nil {
				return nil, err
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
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode log entry %s/%d: %w", jobID, binary.BigEndian.Uint64(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// JobByChannel returns the job a Slack channel is bound to.
func (db *DB) JobByChannel(ctx context.Context, channelID string) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketChannels).Get([]byte(channelID))
		if v == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "channel %s is not bound to a job", channelID)
		}
		id = string(v)
		return nil
	})
	return id, err
}

// JobByMessage returns the job whose gate announcement is the message ts
// in channel.
func (db *DB) JobByMessage(ctx context.Context, channelID, ts string) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMessages).Get(messageKey(channelID, ts))
		if v == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "message %s in %s announces no gate", ts, channelID)
		}
		id = string(v)
		return nil
	})
	return id, err
}

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
// uses them; a key spent before refuses the whole change.
func (db *DB) spend(tx *bolt.Tx, keys []string) error {
	b := tx.Bucket(bucketOnce)
	for _, k := range keys {
		if b.Get([]byte(k)) != nil {
			return jobs.Errorf(jobs.ECONFLICT, "this link was already used")
		}
		if err := b.Put([]byte(k), u64(uint64(db.now().UnixNano()))); err != nil {
			return fmt.Errorf("spend %s: %w", k, err)
		}
	}
	return nil
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

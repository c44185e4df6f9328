package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/cla-ops/cla/jobs"
	jsonv1 "github.com/go-json-experiment/json/v1"
	bolt "go.etcd.io/bbolt"
)

// AppendLog appends entries to a job's log through group commit, dropping
// entries whose Key was seen for the job before, and refusing them all
// (EQUOTA, nothing written) if the log would pass limit entries (0: no
// limit), in the same transaction.
func (db *DB) AppendLog(ctx context.Context, jobID string, entries []jobs.LogEntry, limit uint64) ([]jobs.LogEntry, error) {
	log, err := encodeLog(entries)
	if err != nil {
		return nil, err
	}
	var added []jobs.LogEntry
	err = db.batch(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketJobs).Get([]byte(jobID)) == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "job %s not found", jobID)
		}
		if err := checkLogRoom(tx, jobID, entries, limit); err != nil {
			return err // before anything is written: the shared transaction goes on
		}
		var err error
		added, err = appendLog(tx, jobID, log, db.now())
		return err
	})
	return added, err
}

// checkLogRoom refuses entries that would take a job's log past limit
// entries (0: no limit). Entries whose key was seen, which appendLog
// drops, take no room.
func checkLogRoom(tx *bolt.Tx, jobID string, entries []jobs.LogEntry, limit uint64) error {
	if limit == 0 {
		return nil
	}
	var count uint64
	if logs := tx.Bucket(bucketLogs).Bucket([]byte(jobID)); logs != nil {
		count = logs.Sequence()
	}
	keys := tx.Bucket(bucketLogKeys)
	var seen map[string]bool
	var n uint64
	for _, e := range entries {
		if e.Key != "" {
			if seen[e.Key] || keys.Get(pairKey(jobID, e.Key)) != nil {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[e.Key] = true
		}
		n++
	}
	if n > 0 && count+n > limit {
		return jobs.LogFull(jobID, count, n, limit)
	}
	return nil
}

// encodedLog is new log entries encoded before the write transaction, each
// with sequence number 0: the one writer then only writes each entry's
// number in (withSeq) instead of encoding it.
type encodedLog struct {
	entries []jobs.LogEntry
	data    [][]byte
}

// seqZero is how every encoded entry begins: Seq is LogEntry's first field.
const seqZero = `{"seq":0,`

// encodeLog encodes entries with sequence number 0.
func encodeLog(entries []jobs.LogEntry) (encodedLog, error) {
	log := encodedLog{entries: entries, data: make([][]byte, len(entries))}
	for i, e := range entries {
		e.Seq = 0
		data, err := jsonv1.Marshal(e) // as encoding/json
		if err != nil {
			return encodedLog{}, fmt.Errorf("encode log entry: %w", err)
		}
		if !bytes.HasPrefix(data, []byte(seqZero)) {
			return encodedLog{}, fmt.Errorf("encode log entry: %.20q does not begin with its sequence number", data)
		}
		log.data[i] = data
	}
	return log, nil
}

// withSeq is an entry encoded by encodeLog with seq as its number: the
// bytes jsonv1.Marshal writes for the entry with Seq set.
func withSeq(zero []byte, seq uint64) []byte {
	out := make([]byte, 0, len(zero)+20)
	out = strconv.AppendUint(append(out, `{"seq":`...), seq, 10)
	return append(out, zero[len(seqZero)-1:]...)
}

// appendLog writes a job's new entries under its log bucket with the next
// sequence numbers, skipping keys already seen; a new key is recorded with
// its time (now) so that maintenance can prune it.
func appendLog(tx *bolt.Tx, jobID string, log encodedLog, now time.Time) ([]jobs.LogEntry, error) {
	if len(log.entries) == 0 {
		return nil, nil
	}
	logs, err := tx.Bucket(bucketLogs).CreateBucketIfNotExists([]byte(jobID))
	if err != nil {
		return nil, fmt.Errorf("log bucket %s: %w", jobID, err)
	}
	keys := tx.Bucket(bucketLogKeys)
	out := make([]jobs.LogEntry, 0, len(log.entries))
	for i, e := range log.entries {
		var dedupe []byte
		if e.Key != "" {
			dedupe = pairKey(jobID, e.Key)
			if keys.Get(dedupe) != nil {
				continue
			}
		}
		seq, err := logs.NextSequence()
		if err != nil {
			return nil, fmt.Errorf("log sequence %s: %w", jobID, err)
		}
		e.Seq = seq
		if err := logs.Put(u64(seq), withSeq(log.data[i], seq)); err != nil {
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

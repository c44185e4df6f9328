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

// Visitor receives every record of a store, for copying it elsewhere
// (cla migrate). Nil functions skip their kind.
type Visitor struct {
	// Job gets each job record and the last sequence number of its log.
	Job func(j *jobs.Job, logSeq uint64) error
	// File gets the bytes of each file annotation, after its job.
	File func(jobID string, n int, content []byte) error
	// Log gets each log entry, in sequence order per job (Key included).
	Log func(jobID string, e jobs.LogEntry) error
	// Channel gets each Slack channel binding.
	Channel func(channelID, jobID string) error
	// Notification gets each pending notification in enqueue order, then
	// the ids of delivered ones (settled, only the id is kept).
	Notification func(n jobs.Notification, settled bool) error
	// Once gets each dedupe key and when it was first seen.
	Once func(key string, at time.Time) error
	// Freeze gets each deployment freeze, ended ones included.
	Freeze func(f jobs.Freeze) error
}

// Counts is how many records of each kind a store holds.
type Counts struct {
	Jobs, Logs, Channels, Pending, Settled, Once, Freezes int
	// Annotations are annotation records; Files the file bytes kept apart.
	Annotations, Files int
}

// Export visits every record in one read transaction (a consistent
// snapshot), and returns the counts visited.
func (db *DB) Export(ctx context.Context, v Visitor) (Counts, error) {
	var c Counts
	err := db.bolt.View(func(tx *bolt.Tx) error {
		logs := tx.Bucket(bucketLogs)
		err := tx.Bucket(bucketJobs).ForEach(func(k, data []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			j, err := decodeJob(data)
			if err != nil {
				return err
			}
			lb := logs.Bucket(k)
			var seq uint64
			if lb != nil {
				seq = lb.Sequence()
			}
			c.Jobs++
			if err := attachAnnotations(tx, j); err != nil {
				return err
			}
			c.Annotations += len(j.Annotations)
			if v.Job != nil {
				if err := v.Job(j, seq); err != nil {
					return err
				}
			}
			files, err := exportFiles(tx, j.ID, v.File)
			if err != nil {
				return err
			}
			c.Files += files
			if lb == nil {
				return nil
			}
			return lb.ForEach(func(sk, ev []byte) error {
				var e jobs.LogEntry
				if err := json.Unmarshal(ev, &e); err != nil {
					return fmt.Errorf("decode log entry %s/%d: %w", k, binary.BigEndian.Uint64(sk), err)
				}
				c.Logs++
				if v.Log == nil {
					return nil
				}
				return v.Log(j.ID, e)
			})
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketChannels).ForEach(func(k, val []byte) error {
			c.Channels++
			if v.Channel == nil {
				return nil
			}
			return v.Channel(string(k), string(val))
		})
		if err != nil {
			return err
		}
		outbox := tx.Bucket(bucketOutbox)
		err = outbox.ForEach(func(_, data []byte) error {
			var n jobs.Notification
			if err := json.Unmarshal(data, &n); err != nil {
				return fmt.Errorf("decode notification: %w", err)
			}
			c.Pending++
			if v.Notification == nil {
				return nil
			}
			return v.Notification(n, false)
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketOutboxIDs).ForEach(func(id, val []byte) error {
			if seq := seqOf(val); seq != nil && outbox.Get(seq) != nil {
				return nil // pending: visited above
			}
			c.Settled++
			if v.Notification == nil {
				return nil
			}
			return v.Notification(jobs.Notification{ID: string(id)}, true)
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketFreezes).ForEach(func(k, val []byte) error {
			var f jobs.Freeze
			if err := json.Unmarshal(val, &f); err != nil {
				return fmt.Errorf("decode freeze %s: %w", k, err)
			}
			c.Freezes++
			if v.Freeze == nil {
				return nil
			}
			return v.Freeze(f)
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOnce).ForEach(func(k, val []byte) error {
			c.Once++
			if v.Once == nil {
				return nil
			}
			at := time.Time{}
			if len(val) == 8 {
				at = time.Unix(0, int64(binary.BigEndian.Uint64(val)))
			}
			return v.Once(string(k), at)
		})
	})
	return c, err
}

// attachAnnotations fills in a job's annotation records for export.
func attachAnnotations(tx *bolt.Tx, j *jobs.Job) error {
	prefix := append([]byte(j.ID), 0)
	c := tx.Bucket(bucketAnnotations).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var ref jobs.AnnotationRef
		if err := json.Unmarshal(v, &ref); err != nil {
			return fmt.Errorf("decode annotation %s: %w", j.ID, err)
		}
		j.Annotations = append(j.Annotations, ref)
	}
	return nil
}

// exportFiles visits a job's file bytes (visit may be nil) and counts them.
func exportFiles(tx *bolt.Tx, jobID string, visit func(string, int, []byte) error) (int, error) {
	prefix := append([]byte(jobID), 0)
	c := tx.Bucket(bucketFiles).Cursor()
	n := 0
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+4 {
			continue
		}
		n++
		if visit == nil {
			continue
		}
		if err := visit(jobID, int(binary.BigEndian.Uint32(k[len(prefix):])), v); err != nil {
			return n, err
		}
	}
	return n, nil
}

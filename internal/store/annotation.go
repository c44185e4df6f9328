package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// Annotation buckets: records and file bytes live beside the job, never in
// its record, so reading or changing a job does not decode them.
var (
	bucketAnnotations = []byte("annotations") // job id + 0 + n (big-endian u32) → AnnotationRef (JSON)
	bucketFiles       = []byte("files")       // job id + 0 + n → a file annotation's bytes
)

func init() {
	allBuckets = append(allBuckets, bucketAnnotations, bucketFiles)
	migrations = append(migrations, struct {
		key   string
		build func(tx *bolt.Tx) error
	}{"data:annotations-apart:1", moveAnnotationsOut})
}

func annotationKey(jobID string, n int) []byte {
	k := make([]byte, 0, len(jobID)+5)
	k = append(append(k, jobID...), 0)
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// putAnnotations writes the annotations of a change.
func putAnnotations(tx *bolt.Tx, jobID string, recs []jobs.NewAnnotationRecord) error {
	refs, files := tx.Bucket(bucketAnnotations), tx.Bucket(bucketFiles)
	for _, r := range recs {
		data, err := json.Marshal(r.Ref)
		if err != nil {
			return fmt.Errorf("encode annotation %s/%d: %w", jobID, r.Ref.ID, err)
		}
		if err := refs.Put(annotationKey(jobID, r.Ref.ID), data); err != nil {
			return fmt.Errorf("put annotation %s/%d: %w", jobID, r.Ref.ID, err)
		}
		if len(r.Content) > 0 {
			if err := files.Put(annotationKey(jobID, r.Ref.ID), r.Content); err != nil {
				return fmt.Errorf("put file %s/%d: %w", jobID, r.Ref.ID, err)
			}
		}
	}
	return nil
}

// Annotations returns a job's annotation records with ID > after.
func (db *DB) Annotations(ctx context.Context, jobID string, after, limit int) ([]jobs.AnnotationRef, error) {
	out := []jobs.AnnotationRef{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(jobID), 0)
		c := tx.Bucket(bucketAnnotations).Cursor()
		for k, v := c.Seek(annotationKey(jobID, after+1)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if limit > 0 && len(out) == limit {
				break
			}
			var ref jobs.AnnotationRef
			if err := json.Unmarshal(v, &ref); err != nil {
				return fmt.Errorf("decode annotation %s: %w", jobID, err)
			}
			out = append(out, ref)
		}
		return nil
	})
	return out, err
}

// AnnotationContent returns the bytes of file annotation n.
func (db *DB) AnnotationContent(ctx context.Context, jobID string, n int) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get(annotationKey(jobID, n))
		if v == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "job %s keeps no bytes for annotation %d", jobID, n)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// LogCount returns the last sequence number of a job's log.
func (db *DB) LogCount(ctx context.Context, jobID string) (uint64, error) {
	var n uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketLogs).Bucket([]byte(jobID)); b != nil {
			n = b.Sequence()
		}
		return nil
	})
	return n, err
}

// legacyJob reads the annotations a job record held before they moved out.
type legacyJob struct {
	Annotations []jobs.AnnotationRef `json:"annotations"`
}

// legacyEntry reads the bytes a log entry carried before files moved out.
type legacyEntry struct {
	Content []byte `json:"contentBase64"`
}

// moveAnnotationsOut migrates a file written before annotations left the
// job record: each job's annotations go to their bucket (with the usage
// counters set), and each log entry's file bytes to the files bucket, the
// entry keeping a reference. It runs once, at Open.
func moveAnnotationsOut(tx *bolt.Tx) error {
	jb := tx.Bucket(bucketJobs)
	var ids [][]byte
	err := jb.ForEach(func(k, v []byte) error {
		if bytes.Contains(v, []byte(`"annotations":[{`)) {
			ids = append(ids, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := moveJobAnnotations(tx, id); err != nil {
			return err
		}
	}
	return moveLogFiles(tx)
}

func moveJobAnnotations(tx *bolt.Tx, id []byte) error {
	raw := tx.Bucket(bucketJobs).Get(id)
	var old legacyJob
	if err := json.Unmarshal(raw, &old); err != nil {
		return fmt.Errorf("migrate annotations of %s: %w", id, err)
	}
	j, err := decodeJob(raw)
	if err != nil {
		return err
	}
	recs := make([]jobs.NewAnnotationRecord, len(old.Annotations))
	for i, ref := range old.Annotations {
		recs[i] = jobs.NewAnnotationRecord{Ref: ref}
		j.AnnotationBytes += int64(ref.Size)
		if ref.Kind == jobs.AnnotationFile && ref.Stored {
			j.FileCount++
		}
	}
	j.AnnotationCount, j.Annotations = len(old.Annotations), nil
	if err := putAnnotations(tx, j.ID, recs); err != nil {
		return err
	}
	data, err := encodeJob(j)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put(id, data)
}

func moveLogFiles(tx *bolt.Tx) error {
	logs := tx.Bucket(bucketLogs)
	return logs.ForEach(func(jobID, _ []byte) error {
		lb := logs.Bucket(jobID)
		if lb == nil {
			return nil
		}
		type move struct {
			key   []byte
			entry jobs.LogEntry
			bytes []byte
		}
		var moves []move
		err := lb.ForEach(func(k, v []byte) error {
			if !bytes.Contains(v, []byte(`"contentBase64"`)) {
				return nil
			}
			var e jobs.LogEntry
			var old legacyEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("migrate log %s: %w", jobID, err)
			}
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("migrate log %s: %w", jobID, err)
			}
			moves = append(moves, move{append([]byte(nil), k...), e, old.Content})
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range moves {
			n, err := strconv.Atoi(m.entry.Fields["annotation"])
			if err == nil && n > 0 && len(m.bytes) > 0 {
				if err := tx.Bucket(bucketFiles).Put(annotationKey(string(jobID), n), m.bytes); err != nil {
					return err
				}
				m.entry.Fields["content"] = jobs.ContentPath(string(jobID), n)
			}
			data, err := json.Marshal(m.entry)
			if err != nil {
				return err
			}
			if err := lb.Put(m.key, data); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForEachJobRecord visits every stored job record as bytes (for checks and
// tests of the record's size).
func (db *DB) ForEachJobRecord(fn func(id string, data []byte) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
}

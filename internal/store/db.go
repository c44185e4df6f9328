// Package store is the embedded bbolt implementation of jobs.Store. It owns
// the record encoding and the buckets; every state change is one bbolt
// transaction, and concurrent changes share commits through Batch (group
// commit), so many writers pay for one fsync.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
	jsonv1 "github.com/go-json-experiment/json/v1"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var _ jobs.Store = (*DB)(nil)

// Bucket names. Index buckets hold derived keys and are rewritten in the
// same transaction as the job they index.
var (
	bucketJobs      = []byte("jobs")
	bucketLogs      = []byte("logs")         // nested: job id → seq → entry
	bucketLogKeys   = []byte("log_keys")     // job id + 0 + key → seq [+ recorded]
	bucketCreated   = []byte("idx_created")  // created + id
	bucketStatus    = []byte("idx_status")   // status + 0 + created + id
	bucketTimers    = []byte("idx_timers")   // wake + id
	bucketChannels  = []byte("idx_channels") // channel id → job id
	bucketMessages  = []byte("idx_messages") // channel id + 0 + message ts → job id (gate announcements)
	bucketOutbox    = []byte("outbox")       // seq → notification
	bucketOutboxIDs = []byte("outbox_ids")   // notification id → seq [+ recorded] (kept after delivery: dedupe)
	bucketOnce      = []byte("once")         // key → first seen
	bucketFreezes   = []byte("freezes")      // freeze id → freeze (JSON)
	// The outbox indexes: see outbox.go.
	bucketOutboxLanes = []byte("outbox_lanes") // lane + 0xff + seq → nil
	bucketOutboxHeads = []byte("outbox_heads") // due + seq → lane, for each lane's deliverable head
	bucketOutboxScope = []byte("outbox_scope") // type + 0xff + job + 0xff + seq → nil, targeted only
	bucketWaiting     = []byte("idx_waiting")  // assignee + 0xff + created + id → nil, open gates
	bucketMeta        = []byte("meta")         // counters and index versions
	allBuckets        = [][]byte{bucketJobs, bucketLogs, bucketLogKeys, bucketCreated, bucketStatus,
		bucketTimers, bucketChannels, bucketMessages, bucketOutbox, bucketOutboxIDs, bucketOnce, bucketFreezes,
		bucketOutboxLanes, bucketOutboxHeads, bucketOutboxScope, bucketWaiting, bucketMeta}
)

// DB is a bbolt-backed jobs.Store.
type DB struct {
	bolt   *bolt.DB
	now    func() time.Time
	commit *committer

	pruneMu sync.Mutex // one prune call at a time
	sweep   sweep      // where the prune sweep stands
}

// Open opens (creating if needed) the bbolt file at path.
func Open(path string) (*DB, error) {
	// The free-page list is kept as a map (written and searched as an
	// array, its cost per commit grows with the free pages of the file)
	// and is written by a commit only while it is small (see
	// writeSmallFreelist); Open rebuilds a list that was not written by
	// walking the file.
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true,
		FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		writeSmallFreelist(tx)
		return migrate(tx)
	})
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("init store %s: %w", path, err)
	}
	releaseOpenScan(b)
	return &DB{bolt: b, now: time.Now, commit: newCommitter(b)}, nil
}

// writeSmallFreelist decides whether the commit of tx writes bbolt's
// free-page list: only if the list fits in one page. A commit that writes
// it lets Open, after a crash too, read the list instead of walking every
// page of the file to rebuild it (about 0.1 s at 100,000 open gates on
// this machine, against 1–3 ms); the page costs the commit one page
// write. A longer list (a file that once held a much larger backlog, whose
// pages are now free) is not written, so that commits do not pay for past
// backlogs: bbolt writes the whole list at each commit that writes it.
// Then Open after a crash walks the file. It must run inside the write
// transaction, which is what makes setting the DB's flag safe. The counts
// are those after the previous commit.
func writeSmallFreelist(tx *bolt.Tx) {
	db := tx.DB()
	s := db.Stats()
	db.NoFreelistSync = freelistBytes(s.FreePageN+s.PendingPageN) > db.Info().PageSize
}

// freelistBytes is the size of a written free-page list of n page ids:
// bbolt's page header, then 8 bytes an id.
func freelistBytes(n int) int { return 16 + 8*n }

// Close closes the file; pending batches are committed first. Its last
// commit writes bbolt's free-page list, whatever its size, so that the
// next Open reads that list instead of walking every page of the file to
// rebuild it: after a clean stop the store opens in milliseconds.
func (db *DB) Close() error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		tx.DB().NoFreelistSync = false // this commit writes the list
		return nil
	})
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return nil // closed before
	}
	if err != nil {
		err = fmt.Errorf("write the free-page list of %s: %w", db.bolt.Path(), err)
	}
	return errors.Join(err, db.bolt.Close())
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.bolt.Path() }

// batch runs fn in a group-commit transaction. A domain error from fn is
// carried out without failing the shared transaction, so one refused change
// never rolls back its neighbours; fn must have written nothing by then.
func (db *DB) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return db.batchPrepared(ctx, nil, fn)
}

// batchPrepared is batch for a change announced with db.commit.prepare.
func (db *DB) batchPrepared(ctx context.Context, prep *preparation, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var domainErr error
	err := db.commit.do(prep, func(tx *bolt.Tx) error {
		domainErr = nil
		err := fn(tx)
		var de *jobs.Error
		if errors.As(err, &de) {
			domainErr = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return domainErr
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// Bounds of a time key: UnixNano is undefined outside them, and a wrapped
// value would sort a far-future timer among the past (always due).
var (
	minKeyTime = time.Unix(0, 0)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// timeKey orders by time, then id. Times outside 1970..2262 are clamped to
// the nearest bound, the same way on write and on delete.
func timeKey(t time.Time, id string) []byte {
	n := uint64(0)
	switch {
	case t.After(maxKeyTime):
		n = math.MaxInt64
	case t.After(minKeyTime):
		n = uint64(t.UnixNano())
	}
	return append(u64(n), id...)
}

// encodeJob is the job record: the job without its annotations, which
// live in their own bucket. encodeJob and decodeJob write and read it as
// encoding/json does (TestJobCodec_AsEncodingJSON), through the Go team's
// encoding/json v2 prototype in its v1 mode, which decodes with fewer than
// half the allocations and less CPU (BenchmarkJobCodec): the record is read
// and written at every change, so its codec is a large share of a
// completion's CPU.
func encodeJob(j *jobs.Job) ([]byte, error) {
	rec := *j
	rec.Annotations = nil
	data, err := jsonv1.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	return data, nil
}

func decodeJob(data []byte) (*jobs.Job, error) {
	var j jobs.Job
	if err := jsonv1.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	return &j, nil
}

func getJob(tx *bolt.Tx, id string) (*jobs.Job, error) {
	data := tx.Bucket(bucketJobs).Get([]byte(id))
	if data == nil {
		return nil, jobs.Errorf(jobs.ENOTFOUND, "job %s not found", id)
	}
	return decodeJob(data)
}

// Check verifies the file's page structure and that every job record and
// index entry decodes and points at a job: what a crash must never break.
func (db *DB) Check() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		err := tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			_, err := decodeJob(v)
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketCreated).ForEach(func(k, _ []byte) error {
			if tx.Bucket(bucketJobs).Get(k[8:]) == nil {
				return fmt.Errorf("index entry for missing job %q", k[8:])
			}
			return nil
		})
		if err != nil {
			return err
		}
		return checkDerived(tx)
	})
}

// checkDerived verifies that the outbox and waiting index entries point at
// pending notifications and at jobs with an open gate.
func checkDerived(tx *bolt.Tx) error {
	outbox := tx.Bucket(bucketOutbox)
	for _, name := range [][]byte{bucketOutboxLanes, bucketOutboxHeads, bucketOutboxScope} {
		err := tx.Bucket(name).ForEach(func(k, _ []byte) error {
			if len(k) < 8 || outbox.Get(k[len(k)-8:]) == nil {
				return fmt.Errorf("%s entry %q names no pending notification", name, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return tx.Bucket(bucketWaiting).ForEach(func(k, _ []byte) error {
		i := bytes.IndexByte(k, 0xff)
		if i < 0 || len(k) < i+9 {
			return fmt.Errorf("waiting entry %q is malformed", k)
		}
		j, err := getJob(tx, string(k[i+9:]))
		if err != nil || j.OpenGate() == nil {
			return fmt.Errorf("waiting entry %q names no open gate", k)
		}
		return nil
	})
}

package store

import (
	"bytes"
	"context"
	"slices"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// The waiting index holds one key per assignee of each open gate:
// AssigneeKey + 0xff + created + job id. It is moved in the same
// transaction as the job, so "waiting on me" reads only the entries of
// the person's own keys.

func waitingKey(assignee string, j *jobs.Job) []byte {
	return append(append([]byte(assignee), 0xff), timeKey(j.CreatedAt, j.ID)...)
}

// reindexWaiting moves the job's entries from the keys it was waiting on
// to the keys it waits on now.
func reindexWaiting(b *bolt.Bucket, j *jobs.Job, was, now []string) error {
	for _, k := range was {
		if !slices.Contains(now, k) {
			if err := b.Delete(waitingKey(k, j)); err != nil {
				return err
			}
		}
	}
	for _, k := range now {
		if !slices.Contains(was, k) {
			if err := b.Put(waitingKey(k, j), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitingOn reads the entries of each key, merges them newest first
// without repeats, and loads at most limit jobs (0: all).
func (db *DB) WaitingOn(ctx context.Context, keys []string, limit int) ([]*jobs.Job, error) {
	var out []*jobs.Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		seen := map[string]bool{}
		var found [][]byte // created + id
		c := tx.Bucket(bucketWaiting).Cursor()
		for _, key := range keys {
			prefix := append([]byte(key), 0xff)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				rest := k[len(prefix):]
				if id := string(rest[8:]); !seen[id] {
					seen[id] = true
					found = append(found, bytes.Clone(rest))
				}
			}
		}
		slices.SortFunc(found, func(a, b []byte) int { return bytes.Compare(b, a) })
		if limit > 0 && len(found) > limit {
			found = found[:limit]
		}
		for _, k := range found {
			job, err := getJob(tx, string(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, job)
		}
		return nil
	})
	return out, err
}

// rebuildWaiting derives the waiting index from the jobs in a waiting
// status: once, when a file written before it existed is opened.
func rebuildWaiting(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(bucketWaiting); err != nil {
		return err
	}
	b, err := tx.CreateBucket(bucketWaiting)
	if err != nil {
		return err
	}
	c := tx.Bucket(bucketStatus).Cursor()
	for _, s := range []jobs.Status{jobs.StatusActionRequired, jobs.StatusAwaitingApproval, jobs.StatusPaused, jobs.StatusPending, jobs.StatusInProgress} {
		prefix := append([]byte(s), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			j, err := getJob(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if err := reindexWaiting(b, j, nil, j.WaitingKeys()); err != nil {
				return err
			}
		}
	}
	return nil
}

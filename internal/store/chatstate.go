package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

var _ jobs.ChatState = (*DB)(nil)

// Buckets of jobs.ChatState (see chatstate.go in jobs).
var (
	bucketConfirm    = []byte("confirm")     // id → confirmation (JSON)
	bucketConfirmExp = []byte("confirm_exp") // expires + id → nil
	bucketHomes      = []byte("homes")       // user → home view (JSON)
	bucketHomesExp   = []byte("homes_exp")   // expires + user → nil
	bucketHomesJob   = []byte("homes_job")   // job id + 0 + user → nil
	bucketHomesKey   = []byte("homes_key")   // assignee key + 0 + user → nil
)

func init() {
	allBuckets = append(allBuckets, bucketConfirm, bucketConfirmExp, bucketHomes, bucketHomesExp,
		bucketHomesJob, bucketHomesKey)
}

// PutConfirmation stores a new pending confirmation; ECONFLICT if the id
// exists.
func (db *DB) PutConfirmation(ctx context.Context, c jobs.Confirmation) error {
	if c.ID == "" {
		return jobs.Errorf(jobs.EINVALID, "a confirmation needs an id")
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode confirmation %s: %w", c.ID, err)
	}
	return db.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConfirm)
		if b.Get([]byte(c.ID)) != nil {
			return jobs.Errorf(jobs.ECONFLICT, "confirmation %s exists", c.ID)
		}
		if err := b.Put([]byte(c.ID), data); err != nil {
			return err
		}
		return tx.Bucket(bucketConfirmExp).Put(timeKey(c.Expires, c.ID), nil)
	})
}

// Confirmation returns one confirmation; ENOTFOUND if unknown.
func (db *DB) Confirmation(ctx context.Context, id string) (jobs.Confirmation, error) {
	var c jobs.Confirmation
	if err := ctx.Err(); err != nil {
		return c, err
	}
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		c, err = getConfirmation(tx, id)
		return err
	})
	return c, err
}

func getConfirmation(tx *bolt.Tx, id string) (jobs.Confirmation, error) {
	var c jobs.Confirmation
	data := tx.Bucket(bucketConfirm).Get([]byte(id))
	if data == nil {
		return c, jobs.Errorf(jobs.ENOTFOUND, "no pending request %q", id)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("decode confirmation %s: %w", id, err)
	}
	return c, nil
}

// SettleConfirmation ends a pending confirmation; only the first caller
// before it expires wins (the write and the check share a transaction).
func (db *DB) SettleConfirmation(ctx context.Context, id, outcome string, at time.Time) (jobs.Confirmation, error) {
	var c jobs.Confirmation
	err := db.batch(ctx, func(tx *bolt.Tx) (err error) {
		c, err = getConfirmation(tx, id)
		if err != nil {
			return err
		}
		if c.Outcome != "" || !at.Before(c.Expires) {
			return jobs.Errorf(jobs.ECONFLICT, "request %s is no longer pending", id)
		}
		c.Outcome, c.SettledAt = outcome, at
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode confirmation %s: %w", id, err)
		}
		return tx.Bucket(bucketConfirm).Put([]byte(id), data)
	})
	return c, err
}

// PruneConfirmations deletes confirmations that expired before t.
func (db *DB) PruneConfirmations(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		n = 0
		return pruneExpired(tx.Bucket(bucketConfirmExp), before, func(id []byte) error {
			n++
			return tx.Bucket(bucketConfirm).Delete(id)
		})
	})
	return n, err
}

// pruneExpired deletes the entries of an expiry index (expires + id)
// before t, calling drop with each id first. Keys are collected before
// deleting: a bbolt cursor must not see its bucket change under it.
func pruneExpired(exp *bolt.Bucket, before time.Time, drop func(id []byte) error) error {
	end := timeKey(before, "")
	var dead [][]byte
	c := exp.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		dead = append(dead, bytes.Clone(k))
	}
	for _, k := range dead {
		if err := drop(k[8:]); err != nil {
			return err
		}
		if err := exp.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PutHome stores a person's App Home and its index entries.
func (db *DB) PutHome(ctx context.Context, h jobs.HomeView, subscribe bool) (bool, error) {
	if h.User == "" {
		return false, jobs.Errorf(jobs.EINVALID, "a home needs a user")
	}
	// Most refreshes change nothing of the record: read it first and
	// commit (fsync) only a change.
	unchanged, found := false, false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		old, ok, err := getHome(tx, h.User)
		found = ok
		switch {
		case err != nil:
			return err
		case !ok:
			unchanged = !subscribe // not stored and not to be: nothing to write
		default:
			unchanged = sameHome(old, mergeHome(old, h, subscribe))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if unchanged {
		return found, nil
	}
	stored := false
	err = db.batch(ctx, func(tx *bolt.Tx) error {
		old, ok, err := getHome(tx, h.User)
		if err != nil {
			return err
		}
		stored = ok || subscribe
		if !stored {
			return nil
		}
		put := h
		if ok {
			put = mergeHome(old, h, subscribe)
			if err := unindexHome(tx, old); err != nil {
				return err
			}
		}
		return indexHome(tx, put)
	})
	return stored, err
}

// mergeHome is the record PutHome stores over old: a refresh that does not
// subscribe keeps the expiry, and one that names no jobs keeps the jobs.
func mergeHome(old, h jobs.HomeView, subscribe bool) jobs.HomeView {
	if !subscribe {
		h.Expires = old.Expires
	}
	if h.Jobs == nil {
		h.Jobs = old.Jobs
	}
	return h
}

// sameHome reports whether two records store alike (an empty list is
// stored as none).
func sameHome(a, b jobs.HomeView) bool {
	return a.User == b.User && slices.Equal(a.Keys, b.Keys) && slices.Equal(a.Jobs, b.Jobs) && a.Expires.Equal(b.Expires)
}

func getHome(tx *bolt.Tx, user string) (jobs.HomeView, bool, error) {
	var h jobs.HomeView
	data := tx.Bucket(bucketHomes).Get([]byte(user))
	if data == nil {
		return h, false, nil
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, false, fmt.Errorf("decode home %s: %w", user, err)
	}
	return h, true, nil
}

func indexHome(tx *bolt.Tx, h jobs.HomeView) error {
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode home %s: %w", h.User, err)
	}
	if err := tx.Bucket(bucketHomes).Put([]byte(h.User), data); err != nil {
		return err
	}
	if err := tx.Bucket(bucketHomesExp).Put(timeKey(h.Expires, h.User), nil); err != nil {
		return err
	}
	for _, id := range h.Jobs {
		if err := tx.Bucket(bucketHomesJob).Put(pairKey(id, h.User), nil); err != nil {
			return err
		}
	}
	for _, k := range h.Keys {
		if err := tx.Bucket(bucketHomesKey).Put(pairKey(k, h.User), nil); err != nil {
			return err
		}
	}
	return nil
}

func unindexHome(tx *bolt.Tx, h jobs.HomeView) error {
	if err := tx.Bucket(bucketHomesExp).Delete(timeKey(h.Expires, h.User)); err != nil {
		return err
	}
	for _, id := range h.Jobs {
		if err := tx.Bucket(bucketHomesJob).Delete(pairKey(id, h.User)); err != nil {
			return err
		}
	}
	for _, k := range h.Keys {
		if err := tx.Bucket(bucketHomesKey).Delete(pairKey(k, h.User)); err != nil {
			return err
		}
	}
	return nil
}

// pairKey is a + 0 + b: a key of b under a (a channel's message, a
// job's log key).
func pairKey(a, b string) []byte { return append(append([]byte(a), 0), b...) }

// HomesFor returns the people whose unexpired home shows jobID or has any
// of keys (every unexpired home when both are empty).
func (db *DB) HomesFor(ctx context.Context, jobID string, keys []string, at time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var users []string
		if jobID == "" && len(keys) == 0 {
			_ = tx.Bucket(bucketHomes).ForEach(func(k, _ []byte) error { users = append(users, string(k)); return nil })
		} else {
			if jobID != "" {
				users = append(users, usersUnder(tx.Bucket(bucketHomesJob), jobID)...)
			}
			for _, k := range keys {
				users = append(users, usersUnder(tx.Bucket(bucketHomesKey), k)...)
			}
		}
		slices.Sort(users)
		for _, u := range slices.Compact(users) {
			h, ok, err := getHome(tx, u)
			if err != nil {
				return err
			}
			if ok && at.Before(h.Expires) {
				out = append(out, u)
			}
		}
		return nil
	})
	return out, err
}

// usersUnder lists the users filed under prefix + 0 in a pair index.
func usersUnder(b *bolt.Bucket, prefix string) []string {
	p := pairKey(prefix, "")
	var out []string
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		out = append(out, string(k[len(p):]))
	}
	return out
}

// PruneHomes deletes homes that expired before t, with their index entries.
func (db *DB) PruneHomes(ctx context.Context, before time.Time) (int, error) {
	if !db.anyExpired(bucketHomesExp, before) {
		return 0, nil // nothing to prune: no commit (every App Home open calls this)
	}
	n := 0
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		n = 0
		var dead []jobs.HomeView
		err := pruneExpired(tx.Bucket(bucketHomesExp), before, func(user []byte) error {
			h, ok, err := getHome(tx, string(user))
			if ok {
				dead = append(dead, h)
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, h := range dead {
			n++
			if err := unindexHome(tx, h); err != nil {
				return err
			}
			if err := tx.Bucket(bucketHomes).Delete([]byte(h.User)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// anyExpired reports whether an expiry index (expires + id) has an entry
// before t (or cannot be read: then the prune's own transaction says why).
func (db *DB) anyExpired(bucket []byte, before time.Time) bool {
	found := true
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucket).Cursor().First()
		found = k != nil && bytes.Compare(k, timeKey(before, "")) < 0
		return nil
	})
	return found
}

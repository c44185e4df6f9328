package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// Session buckets: the record, and two indexes written with it.
var (
	bucketSessions       = []byte("sessions")              // id → session (JSON)
	bucketSessionsByName = []byte("idx_sessions_identity") // identity + 0 + id → nil
	bucketSessionsExpiry = []byte("idx_sessions_expiry")   // expires + id → nil
)

func init() {
	allBuckets = append(allBuckets, bucketSessions, bucketSessionsByName, bucketSessionsExpiry)
}

func sessionNameKey(identity, id string) []byte { return []byte(identity + "\x00" + id) }

// PutSession stores a session with its index entries.
func (db *DB) PutSession(ctx context.Context, s jobs.Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return db.batch(ctx, func(tx *bolt.Tx) error {
		if err := deleteSession(tx, s.ID); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSessions).Put([]byte(s.ID), data); err != nil {
			return fmt.Errorf("put session: %w", err)
		}
		if err := tx.Bucket(bucketSessionsByName).Put(sessionNameKey(s.Identity, s.ID), nil); err != nil {
			return fmt.Errorf("index session: %w", err)
		}
		return tx.Bucket(bucketSessionsExpiry).Put(timeKey(s.ExpiresAt, s.ID), nil)
	})
}

func getSession(tx *bolt.Tx, id string) (jobs.Session, bool, error) {
	var s jobs.Session
	data := tx.Bucket(bucketSessions).Get([]byte(id))
	if data == nil {
		return s, false, nil
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, false, fmt.Errorf("decode session: %w", err)
	}
	return s, true, nil
}

// deleteSession removes a session and its index entries, if it exists.
func deleteSession(tx *bolt.Tx, id string) error {
	s, ok, err := getSession(tx, id)
	if err != nil || !ok {
		return err
	}
	if err := tx.Bucket(bucketSessionsByName).Delete(sessionNameKey(s.Identity, s.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSessionsExpiry).Delete(timeKey(s.ExpiresAt, s.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketSessions).Delete([]byte(id))
}

func notFoundSession() error {
	return jobs.Errorf(jobs.ENOTFOUND, "no such session (signed out or revoked)")
}

// GetSession returns one session.
func (db *DB) GetSession(ctx context.Context, id string) (jobs.Session, error) {
	var s jobs.Session
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if s, ok, err = getSession(tx, id); err == nil && !ok {
			err = notFoundSession()
		}
		return err
	})
	return s, err
}

// TouchSession records when a session was last used.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		s, ok, err := getSession(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFoundSession()
		}
		s.LastSeen = at
		data, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode session: %w", err)
		}
		return tx.Bucket(bucketSessions).Put([]byte(id), data)
	})
}

// ListSessions returns an identity's sessions, newest first.
func (db *DB) ListSessions(ctx context.Context, identity string) ([]jobs.Session, error) {
	out := []jobs.Session{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := sessionNameKey(identity, "")
		c := tx.Bucket(bucketSessionsByName).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			s, ok, err := getSession(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			if ok {
				out = append(out, s)
			}
		}
		return nil
	})
	sortSessions(out)
	return out, err
}

// sortSessions orders sessions newest first, then by id.
func sortSessions(ss []jobs.Session) {
	sort.Slice(ss, func(i, j int) bool {
		if !ss[i].CreatedAt.Equal(ss[j].CreatedAt) {
			return ss[i].CreatedAt.After(ss[j].CreatedAt)
		}
		return ss[i].ID < ss[j].ID
	})
}

// DeleteSession revokes one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSessions).Get([]byte(id)) == nil {
			return notFoundSession()
		}
		return deleteSession(tx, id)
	})
}

// DeleteSessions revokes every session of an identity.
func (db *DB) DeleteSessions(ctx context.Context, identity string) (int, error) {
	n := 0
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		n = 0
		prefix := sessionNameKey(identity, "")
		var ids []string
		c := tx.Bucket(bucketSessionsByName).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		for _, id := range ids {
			if err := deleteSession(tx, id); err != nil {
				return fmt.Errorf("revoke session: %w", err)
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// PruneSessions removes the sessions expired at or before t, walking the
// expiry index from its start.
func (db *DB) PruneSessions(ctx context.Context, t time.Time) (int, error) {
	n := 0
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		n = 0
		limit := timeKey(t, "")
		var ids []string
		c := tx.Bucket(bucketSessionsExpiry).Cursor()
		for k, _ := c.First(); len(k) >= 8 && bytes.Compare(k[:8], limit) <= 0; k, _ = c.Next() {
			ids = append(ids, string(k[8:]))
		}
		for _, id := range ids {
			if err := deleteSession(tx, id); err != nil {
				return fmt.Errorf("prune session: %w", err)
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

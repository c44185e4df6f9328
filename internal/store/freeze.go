package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// PutFreeze stores a deployment freeze.
func (db *DB) PutFreeze(ctx context.Context, f jobs.Freeze) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode freeze %s: %w", f.ID, err)
	}
	return db.batch(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFreezes).Put([]byte(f.ID), data)
	})
}

// DeleteFreeze removes a freeze; ENOTFOUND for an unknown id.
func (db *DB) DeleteFreeze(ctx context.Context, id string) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFreezes)
		if b.Get([]byte(id)) == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "no freeze %q", id)
		}
		return b.Delete([]byte(id))
	})
}

// Freezes returns every stored freeze, by until then id.
func (db *DB) Freezes(ctx context.Context) ([]jobs.Freeze, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []jobs.Freeze{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFreezes).ForEach(func(k, v []byte) error {
			var f jobs.Freeze
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode freeze %s: %w", k, err)
			}
			out = append(out, f)
			return nil
		})
	})
	sortFreezes(out)
	return out, err
}

func sortFreezes(fs []jobs.Freeze) {
	sort.Slice(fs, func(i, j int) bool {
		if !fs[i].Until.Equal(fs[j].Until) {
			return fs[i].Until.Before(fs[j].Until)
		}
		return fs[i].ID < fs[j].ID
	})
}

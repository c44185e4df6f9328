package pgstore

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// spend records single-use keys in the transaction of the change that
// uses them; a key spent before refuses the whole change.
func spend(ctx context.Context, tx pgx.Tx, keys []string) error {
	for _, k := range keys {
		tag, err := tx.Exec(ctx, `INSERT INTO cla_once (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, k)
		if err != nil {
			return fmt.Errorf("spend %s: %w", k, err)
		}
		if tag.RowsAffected() == 0 {
			return jobs.Errorf(jobs.ECONFLICT, "this link was already used")
		}
	}
	return nil
}

// Once records key and reports whether it is new, across every replica.
func (db *DB) Once(ctx context.Context, key string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO cla_once (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, key)
	if err != nil {
		return false, fmt.Errorf("once %s: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

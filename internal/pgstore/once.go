package pgstore

import (
	"context"
	"fmt"
	"time"

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

// pruneLockClass ('cla') is the class of the advisory lock a prune
// transaction takes: the replica that holds it prunes, the others find
// nothing to do this time. Advisory locks belong to the whole database, so
// the key within the class is the schema's: a deployment (or a test) in
// another schema of the same database prunes its own rows meanwhile, where
// one shared key made it skip its prune whenever the other's was running.
const pruneLockClass = 0x636c61

// pruneLockSQL tries the prune lock of the current schema for the
// transaction.
const pruneLockSQL = `SELECT pg_try_advisory_xact_lock($1::int, hashtext(current_schema()))`

// PruneKeys deletes up to limit dedupe keys recorded before before, in
// one transaction: Once rows, then log entry keys (the entry stays, its key
// is cleared), then settled notifications (pending ones are never
// touched). Every replica may call it: one at a time gets the advisory
// lock and the others return at once with nothing done. Rows written before
// keys had times were given the time of migration 7, so nothing needs
// stamping here.
func (db *DB) PruneKeys(ctx context.Context, before time.Time, limit int) (jobs.PruneResult, error) {
	if limit <= 0 {
		return jobs.PruneResult{}, jobs.Errorf(jobs.EINVALID, "prune limit must be positive, not %d", limit)
	}
	var res jobs.PruneResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		res = jobs.PruneResult{}
		var mine bool
		if err := tx.QueryRow(ctx, pruneLockSQL, pruneLockClass).Scan(&mine); err != nil {
			return fmt.Errorf("prune lock: %w", err)
		}
		if !mine {
			return nil
		}
		for _, q := range []struct{ what, sql string }{
			{"once keys", `WITH d AS (SELECT key FROM cla_once WHERE first_seen < $1 ORDER BY first_seen LIMIT $2)
				DELETE FROM cla_once o USING d WHERE o.key = d.key`},
			{"log keys", `WITH d AS (SELECT job_id, seq FROM cla_logs WHERE key IS NOT NULL AND key_at < $1 ORDER BY key_at LIMIT $2)
				UPDATE cla_logs l SET key = NULL FROM d WHERE l.job_id = d.job_id AND l.seq = d.seq`},
			{"settled notifications", `WITH d AS (SELECT seq FROM cla_outbox WHERE settled AND enqueued_at < $1 ORDER BY enqueued_at LIMIT $2)
				DELETE FROM cla_outbox o USING d WHERE o.seq = d.seq AND o.settled`},
		} {
			left := limit - res.Deleted
			if left == 0 {
				res.More = true
				return nil
			}
			tag, err := tx.Exec(ctx, q.sql, before, left)
			if err != nil {
				return fmt.Errorf("prune %s: %w", q.what, err)
			}
			res.Deleted += int(tag.RowsAffected())
		}
		res.More = res.Deleted == limit
		return nil
	})
	if err != nil {
		return jobs.PruneResult{}, err
	}
	return res, nil
}

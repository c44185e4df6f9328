package pgstore

import "context"

// HoldPruneLock takes the advisory lock a prune takes, in a transaction of
// its own, as a prune in progress on another replica holds it; release
// ends that transaction. It reports whether the lock was free.
func (db *DB) HoldPruneLock(ctx context.Context) (held bool, release func(), err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, nil, err
	}
	if err := tx.QueryRow(ctx, pruneLockSQL, pruneLockClass).Scan(&held); err != nil {
		_ = tx.Rollback(ctx)
		return false, nil, err
	}
	return held, func() { _ = tx.Rollback(context.Background()) }, nil
}

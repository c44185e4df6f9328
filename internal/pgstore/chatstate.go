package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ jobs.ChatState = (*DB)(nil)

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
	tag, err := db.pool.Exec(ctx, `INSERT INTO cla_confirmations (id, expires, record) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, c.ID, c.Expires, data)
	if err != nil {
		return fmt.Errorf("put confirmation %s: %w", c.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return jobs.Errorf(jobs.ECONFLICT, "confirmation %s exists", c.ID)
	}
	return nil
}

// Confirmation returns one confirmation; ENOTFOUND if unknown.
func (db *DB) Confirmation(ctx context.Context, id string) (jobs.Confirmation, error) {
	return scanConfirmation(db.pool.QueryRow(ctx, `SELECT record FROM cla_confirmations WHERE id = $1`, id), id)
}

func scanConfirmation(row pgx.Row, id string) (jobs.Confirmation, error) {
	var c jobs.Confirmation
	var data []byte
	if err := row.Scan(&data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return c, jobs.Errorf(jobs.ENOTFOUND, "no pending request %q", id)
		}
		return c, fmt.Errorf("read confirmation %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("decode confirmation %s: %w", id, err)
	}
	return c, nil
}

// SettleConfirmation ends a pending confirmation. The row is locked while
// it is checked and written, so of two replicas settling it at once the
// second sees the first's outcome.
func (db *DB) SettleConfirmation(ctx context.Context, id, outcome string, at time.Time) (jobs.Confirmation, error) {
	var c jobs.Confirmation
	var refused error
	err := db.inTx(ctx, func(tx pgx.Tx) (err error) {
		c, err = scanConfirmation(tx.QueryRow(ctx, `SELECT record FROM cla_confirmations WHERE id = $1 FOR UPDATE`, id), id)
		if err != nil {
			return err
		}
		if c.Outcome != "" || !at.Before(c.Expires) {
			refused = jobs.Errorf(jobs.ECONFLICT, "request %s is no longer pending", id)
			return nil
		}
		c.Outcome, c.SettledAt = outcome, at
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode confirmation %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE cla_confirmations SET record = $2 WHERE id = $1`, id, data); err != nil {
			return fmt.Errorf("settle confirmation %s: %w", id, err)
		}
		return nil
	})
	if err == nil {
		err = refused
	}
	return c, err
}

// PruneConfirmations deletes confirmations that expired before t.
func (db *DB) PruneConfirmations(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_confirmations WHERE expires < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune confirmations: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PutHome stores a person's App Home.
func (db *DB) PutHome(ctx context.Context, h jobs.HomeView, subscribe bool) (bool, error) {
	if h.User == "" {
		return false, jobs.Errorf(jobs.EINVALID, "a home needs a user")
	}
	keys, hjobs := nonNil(h.Keys), h.Jobs
	var tag pgconn.CommandTag
	var err error
	if subscribe {
		tag, err = db.pool.Exec(ctx, `INSERT INTO cla_homes (user_id, expires, keys, jobs) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id) DO UPDATE SET expires = EXCLUDED.expires, keys = EXCLUDED.keys,
			jobs = CASE WHEN $5 THEN cla_homes.jobs ELSE EXCLUDED.jobs END`,
			h.User, h.Expires, keys, nonNil(hjobs), hjobs == nil)
	} else {
		tag, err = db.pool.Exec(ctx, `UPDATE cla_homes SET keys = $2, jobs = COALESCE($3, jobs) WHERE user_id = $1`,
			h.User, keys, hjobs)
	}
	if err != nil {
		return false, fmt.Errorf("put home %s: %w", h.User, err)
	}
	return tag.RowsAffected() > 0, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// HomesFor returns the people whose unexpired home shows jobID or has any
// of keys (every unexpired home when both are empty), through the GIN
// indexes on jobs and keys.
func (db *DB) HomesFor(ctx context.Context, jobID string, keys []string, at time.Time) ([]string, error) {
	q := `SELECT user_id FROM cla_homes WHERE expires > $1 AND (jobs @> ARRAY[$2::text] OR keys && $3) ORDER BY user_id`
	args := []any{at, jobID, nonNil(keys)}
	if jobID == "" && len(keys) == 0 {
		q, args = `SELECT user_id FROM cla_homes WHERE expires > $1 ORDER BY user_id`, []any{at}
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("homes for %s: %w", jobID, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("homes for %s: %w", jobID, err)
	}
	return users, nil
}

// PruneHomes deletes homes that expired before t.
func (db *DB) PruneHomes(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_homes WHERE expires < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune homes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

func notFoundSession() error {
	return jobs.Errorf(jobs.ENOTFOUND, "no such session (signed out or revoked)")
}

// PutSession stores a session, replacing one with the same id.
func (db *DB) PutSession(ctx context.Context, s jobs.Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO cla_sessions (id, identity, created_ns, expires_ns, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET identity = $2, created_ns = $3, expires_ns = $4, record = $5`,
		s.ID, s.Identity, nanos(s.CreatedAt), nanos(s.ExpiresAt), data)
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// GetSession returns one session.
func (db *DB) GetSession(ctx context.Context, id string) (jobs.Session, error) {
	var s jobs.Session
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT record FROM cla_sessions WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, notFoundSession()
	}
	if err != nil {
		return s, fmt.Errorf("get session: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("decode session: %w", err)
	}
	return s, nil
}

// TouchSession records when a session was last used.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	stamp, err := json.Marshal(at)
	if err != nil {
		return fmt.Errorf("encode time: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE cla_sessions SET record = jsonb_set(record, '{lastSeen}', $2::jsonb) WHERE id = $1`, id, string(stamp))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFoundSession()
	}
	return nil
}

// ListSessions returns an identity's sessions, newest first.
func (db *DB) ListSessions(ctx context.Context, identity string) ([]jobs.Session, error) {
	out := []jobs.Session{}
	rows, err := db.pool.Query(ctx, `SELECT record FROM cla_sessions WHERE identity = $1 ORDER BY created_ns DESC, id`, identity)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		var s jobs.Session
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("decode session: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSession revokes one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_sessions WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFoundSession()
	}
	return nil
}

// DeleteSessions revokes every session of an identity.
func (db *DB) DeleteSessions(ctx context.Context, identity string) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_sessions WHERE identity = $1`, identity)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", identity, err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneSessions removes the sessions expired at or before t.
func (db *DB) PruneSessions(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_sessions WHERE expires_ns <= $1`, nanos(t))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

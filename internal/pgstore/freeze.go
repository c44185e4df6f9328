package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// PutFreeze stores a deployment freeze.
func (db *DB) PutFreeze(ctx context.Context, f jobs.Freeze) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode freeze %s: %w", f.ID, err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO cla_freezes (id, until, record) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET until = EXCLUDED.until, record = EXCLUDED.record`, f.ID, f.Until, data); err != nil {
		return fmt.Errorf("put freeze %s: %w", f.ID, err)
	}
	return nil
}

// DeleteFreeze removes a freeze; ENOTFOUND for an unknown id.
func (db *DB) DeleteFreeze(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM cla_freezes WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete freeze %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return jobs.Errorf(jobs.ENOTFOUND, "no freeze %q", id)
	}
	return nil
}

// Freezes returns every stored freeze, by until then id.
func (db *DB) Freezes(ctx context.Context) ([]jobs.Freeze, error) {
	rows, err := db.pool.Query(ctx, `SELECT record FROM cla_freezes ORDER BY until, id`)
	if err != nil {
		return nil, fmt.Errorf("list freezes: %w", err)
	}
	defer rows.Close()
	out := []jobs.Freeze{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("list freezes: %w", err)
		}
		var f jobs.Freeze
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("decode freeze: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

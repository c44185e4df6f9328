package pgstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// reindexWaiting moves the job's rows in cla_waiting from the keys it was
// waiting on to those it waits on now (jobs.Job.WaitingKeys), in the
// transaction that writes the job.
func reindexWaiting(ctx context.Context, tx pgx.Tx, j *jobs.Job, was []string) error {
	now := j.WaitingKeys()
	var gone, added []string
	for _, k := range was {
		if !slices.Contains(now, k) {
			gone = append(gone, k)
		}
	}
	for _, k := range now {
		if !slices.Contains(was, k) {
			added = append(added, k)
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM cla_waiting WHERE job_id = $1 AND key = ANY($2)`, j.ID, gone); err != nil {
			return fmt.Errorf("waiting index %s: %w", j.ID, err)
		}
	}
	if len(added) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO cla_waiting (key, created_ns, job_id) SELECT k, $2, $3 FROM unnest($1::text[]) k
			ON CONFLICT DO NOTHING`, added, nanos(j.CreatedAt), j.ID); err != nil {
			return fmt.Errorf("waiting index %s: %w", j.ID, err)
		}
	}
	return nil
}

// WaitingOn reads the rows of the given keys from the assignee index,
// newest first without repeats, and loads at most limit jobs (0: all).
func (db *DB) WaitingOn(ctx context.Context, keys []string, limit int) ([]*jobs.Job, error) {
	var out []*jobs.Job
	if len(keys) == 0 {
		return out, nil
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `SELECT j.data FROM cla_jobs j
		JOIN (SELECT DISTINCT created_ns, job_id FROM cla_waiting WHERE key = ANY($1)) w ON w.job_id = j.id
		ORDER BY w.created_ns DESC, w.job_id DESC LIMIT $2`, keys, lim)
	if err != nil {
		return nil, fmt.Errorf("waiting on %v: %w", keys, err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("waiting on: %w", err)
		}
		j, err := decodeJob(data)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

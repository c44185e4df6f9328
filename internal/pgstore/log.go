package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// AppendLog appends entries to a job's log in one transaction, dropping
// entries whose Key was seen for the job before. Concurrent appends to one
// job serialize on its row, which is also what makes the limit exact;
// PostgreSQL's WAL flush shares their commits.
func (db *DB) AppendLog(ctx context.Context, jobID string, entries []jobs.LogEntry, limit uint64) ([]jobs.LogEntry, error) {
	var added []jobs.LogEntry
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var seq uint64
		err := tx.QueryRow(ctx, `SELECT log_seq FROM cla_jobs WHERE id = $1 FOR UPDATE`, jobID).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return jobs.Errorf(jobs.ENOTFOUND, "job %s not found", jobID)
		}
		if err != nil {
			return fmt.Errorf("lock job %s: %w", jobID, err)
		}
		if added, err = appendLog(ctx, tx, jobID, seq, entries, limit); err != nil {
			return err
		}
		if len(added) == 0 {
			return nil
		}
		return db.notifyChange(ctx, tx, jobID)
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// appendLog writes entries after sequence seq (the job's row is locked by
// the caller), skipping keys already seen, and moves the job's counter. It
// refuses, before it writes anything, new entries that would take the log
// past limit entries (0: no limit).
func appendLog(ctx context.Context, tx pgx.Tx, jobID string, seq uint64, entries []jobs.LogEntry, limit uint64) ([]jobs.LogEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	fresh := make([]jobs.LogEntry, 0, len(entries))
	var seen map[string]bool
	for _, e := range entries {
		if e.Key != "" {
			if seen[e.Key] {
				continue
			}
			var stored bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cla_logs WHERE job_id = $1 AND key = $2)`, jobID, e.Key).Scan(&stored); err != nil {
				return nil, fmt.Errorf("log key %s: %w", jobID, err)
			}
			if stored {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[e.Key] = true
		}
		fresh = append(fresh, e)
	}
	if n := uint64(len(fresh)); limit > 0 && n > 0 && seq+n > limit {
		return nil, jobs.LogFull(jobID, seq, n, limit)
	}
	out := make([]jobs.LogEntry, 0, len(fresh))
	for _, e := range fresh {
		var key *string
		if e.Key != "" {
			k := e.Key
			key = &k
		}
		seq++
		e.Seq = seq
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode log entry: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cla_logs (job_id, seq, key, data) VALUES ($1, $2, $3, $4)`, jobID, int64(seq), key, data); err != nil {
			return nil, fmt.Errorf("append log %s: %w", jobID, err)
		}
		out = append(out, e)
	}
	if len(out) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE cla_jobs SET log_seq = $2 WHERE id = $1`, jobID, int64(seq)); err != nil {
			return nil, fmt.Errorf("log counter %s: %w", jobID, err)
		}
	}
	return out, nil
}

// Log returns up to limit entries with Seq > after.
func (db *DB) Log(ctx context.Context, jobID string, after uint64, limit int) ([]jobs.LogEntry, error) {
	out := []jobs.LogEntry{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, data FROM cla_logs WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		jobID, int64(min(after, 1<<63-1)), limit)
	if err != nil {
		return nil, fmt.Errorf("read log %s: %w", jobID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, fmt.Errorf("read log %s: %w", jobID, err)
		}
		var e jobs.LogEntry
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("decode log entry %s/%d: %w", jobID, seq, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

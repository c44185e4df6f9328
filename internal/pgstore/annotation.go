package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// encodeJob is the job record: the job without its annotations, which
// live in cla_annotations.
func encodeJob(j *jobs.Job) ([]byte, error) {
	rec := *j
	rec.Annotations = nil
	data, err := json.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	return data, nil
}

// putAnnotations writes the annotations of a change (the job's row is
// locked or new).
func putAnnotations(ctx context.Context, tx pgx.Tx, jobID string, recs []jobs.NewAnnotationRecord) error {
	for _, r := range recs {
		data, err := json.Marshal(r.Ref)
		if err != nil {
			return fmt.Errorf("encode annotation %s/%d: %w", jobID, r.Ref.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cla_annotations (job_id, n, data) VALUES ($1, $2, $3)
			ON CONFLICT (job_id, n) DO UPDATE SET data = $3`, jobID, r.Ref.ID, data); err != nil {
			return fmt.Errorf("put annotation %s/%d: %w", jobID, r.Ref.ID, err)
		}
		if len(r.Content) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cla_files (job_id, n, content) VALUES ($1, $2, $3)
			ON CONFLICT (job_id, n) DO UPDATE SET content = $3`, jobID, r.Ref.ID, r.Content); err != nil {
			return fmt.Errorf("put file %s/%d: %w", jobID, r.Ref.ID, err)
		}
	}
	return nil
}

// Annotations returns a job's annotation records with ID > after.
func (db *DB) Annotations(ctx context.Context, jobID string, after, limit int) ([]jobs.AnnotationRef, error) {
	out := []jobs.AnnotationRef{}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `SELECT data FROM cla_annotations WHERE job_id = $1 AND n > $2 ORDER BY n LIMIT $3`, jobID, after, lim)
	if err != nil {
		return nil, fmt.Errorf("annotations of %s: %w", jobID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("annotations of %s: %w", jobID, err)
		}
		var ref jobs.AnnotationRef
		if err := json.Unmarshal(data, &ref); err != nil {
			return nil, fmt.Errorf("decode annotation %s: %w", jobID, err)
		}
		out = append(out, ref)
	}
	return out, rows.Err()
}

// AnnotationContent returns the bytes of file annotation n.
func (db *DB) AnnotationContent(ctx context.Context, jobID string, n int) ([]byte, error) {
	var out []byte
	err := db.pool.QueryRow(ctx, `SELECT content FROM cla_files WHERE job_id = $1 AND n = $2`, jobID, n).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, jobs.Errorf(jobs.ENOTFOUND, "job %s keeps no bytes for annotation %d", jobID, n)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s/%d: %w", jobID, n, err)
	}
	return out, nil
}

// LogCount returns the last sequence number of a job's log.
func (db *DB) LogCount(ctx context.Context, jobID string) (uint64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT log_seq FROM cla_jobs WHERE id = $1`, jobID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("log count %s: %w", jobID, err)
	}
	return uint64(n), nil
}

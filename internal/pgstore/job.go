package pgstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// ChangeChannel is the LISTEN/NOTIFY channel on which every committed
// change announces its job id, a hint for other replicas to wake, when
// the store lives in the public schema. A store in another schema has a
// channel of its own (changeChannel): LISTEN/NOTIFY is database-wide, and
// deployments in other schemas of the same database must not wake it.
const ChangeChannel = "cla_changes"

// changeChannel is the change channel of a store in schema.
func changeChannel(schema string) string {
	if schema == "public" {
		return ChangeChannel // the name replicas of earlier versions use
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(schema)) // a hash.Hash never returns an error
	return fmt.Sprintf("%s_%016x", ChangeChannel, h.Sum64())
}

// CreateJob stores a new job with its first effects in one transaction.
func (db *DB) CreateJob(ctx context.Context, job *jobs.Job, fx jobs.Effects) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		data, err := encodeJob(job)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO cla_jobs (id, status, created_ns, wake_ns, data) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING`, job.ID, string(job.Status), nanos(job.CreatedAt), wakeOf(job), data)
		if err != nil {
			return fmt.Errorf("insert job %s: %w", job.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return jobs.Errorf(jobs.ECONFLICT, "job %s already exists", job.ID)
		}
		if err := bindChannels(ctx, tx, nil, job); err != nil {
			return err
		}
		if err := indexMessages(ctx, tx, nil, job); err != nil {
			return err
		}
		if err := reindexWaiting(ctx, tx, job, nil); err != nil {
			return err
		}
		if err := putAnnotations(ctx, tx, job.ID, fx.Annotations); err != nil {
			return err
		}
		if _, err := appendLog(ctx, tx, job.ID, 0, fx.Log, 0); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, fx.Notify); err != nil {
			return err
		}
		return db.notifyChange(ctx, tx, job.ID)
	})
	return err
}

// UpdateJob locks the job's row, lets fn change it and writes the job, its
// index columns, log entries and notifications in one transaction.
func (db *DB) UpdateJob(ctx context.Context, id string, fn func(*jobs.Job) (jobs.Effects, error)) (*jobs.Job, []jobs.LogEntry, error) {
	var job *jobs.Job
	var added []jobs.LogEntry
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var data []byte
		var seq uint64
		err := tx.QueryRow(ctx, `SELECT data, log_seq FROM cla_jobs WHERE id = $1 FOR UPDATE`, id).Scan(&data, &seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return jobs.Errorf(jobs.ENOTFOUND, "job %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("load job %s: %w", id, err)
		}
		j, err := decodeJob(data)
		if err != nil {
			return err
		}
		old := map[string]bool{}
		for _, c := range j.Channels {
			old[c.ID] = true
		}
		oldMessages := messageRefs(j)
		wasWaiting := j.WaitingKeys()
		fx, err := fn(j)
		if err != nil {
			return err
		}
		if err := spend(ctx, tx, fx.Once); err != nil {
			return err
		}
		if err := bindChannels(ctx, tx, old, j); err != nil {
			return err
		}
		if err := indexMessages(ctx, tx, oldMessages, j); err != nil {
			return err
		}
		if data, err = encodeJob(j); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cla_jobs SET status = $2, wake_ns = $3, data = $4, timer_owner = NULL, timer_lease_until = NULL WHERE id = $1`,
			id, string(j.Status), wakeOf(j), data); err != nil {
			return fmt.Errorf("write job %s: %w", id, err)
		}
		if err := reindexWaiting(ctx, tx, j, wasWaiting); err != nil {
			return err
		}
		if err := putAnnotations(ctx, tx, id, fx.Annotations); err != nil {
			return err
		}
		if added, err = appendLog(ctx, tx, id, seq, fx.Log, 0); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, fx.Notify); err != nil {
			return err
		}
		job = j
		return db.notifyChange(ctx, tx, id)
	})
	if err != nil {
		return nil, nil, err
	}
	return job, added, nil
}

// bindChannels records the channels newly bound to j; a channel serving
// another job is refused inside the transaction (the primary key makes two
// concurrent binds of one channel collide).
func bindChannels(ctx context.Context, tx pgx.Tx, old map[string]bool, j *jobs.Job) error {
	for _, c := range j.Channels {
		if old[c.ID] {
			continue
		}
		var owner string
		err := tx.QueryRow(ctx, `INSERT INTO cla_channels (channel_id, job_id) VALUES ($1, $2)
			ON CONFLICT (channel_id) DO UPDATE SET job_id = cla_channels.job_id RETURNING job_id`, c.ID, j.ID).Scan(&owner)
		if err != nil {
			return fmt.Errorf("bind channel %s: %w", c.ID, err)
		}
		if owner != j.ID {
			return jobs.Errorf(jobs.ECONFLICT, "channel #%s is already bound to job %s", c.Name, owner)
		}
	}
	return nil
}

// messageRefs is the set of j's gate announcements.
func messageRefs(j *jobs.Job) map[jobs.MessageRef]bool {
	out := map[jobs.MessageRef]bool{}
	for _, g := range j.Gates {
		for _, m := range g.Messages {
			out[m] = true
		}
	}
	return out
}

// indexMessages records the gate announcements j did not have before.
func indexMessages(ctx context.Context, tx pgx.Tx, old map[jobs.MessageRef]bool, j *jobs.Job) error {
	for m := range messageRefs(j) {
		if old[m] {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cla_messages (channel_id, ts, job_id) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, m.Channel, m.TS, j.ID); err != nil {
			return fmt.Errorf("index announcement %s/%s: %w", m.Channel, m.TS, err)
		}
	}
	return nil
}

// JobByMessage returns the job whose gate announcement is ts in channelID.
func (db *DB) JobByMessage(ctx context.Context, channelID, ts string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT job_id FROM cla_messages WHERE channel_id = $1 AND ts = $2`, channelID, ts).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", jobs.Errorf(jobs.ENOTFOUND, "message %s in %s announces no gate", ts, channelID)
	}
	if err != nil {
		return "", fmt.Errorf("job by message %s/%s: %w", channelID, ts, err)
	}
	return id, nil
}

// notifyChange announces, at commit, that this instance changed job id.
func (db *DB) notifyChange(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, db.changes, db.owner+" "+id); err != nil {
		return fmt.Errorf("notify change %s: %w", id, err)
	}
	return nil
}

// wakeOf is the job's timer column: nil when nothing is scheduled.
func wakeOf(j *jobs.Job) *int64 {
	w := j.NextWake()
	if w.IsZero() {
		return nil
	}
	n := nanos(w)
	return &n
}

func decodeJob(data []byte) (*jobs.Job, error) {
	var j jobs.Job
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	return &j, nil
}

// GetJob returns a fresh copy of a job.
func (db *DB) GetJob(ctx context.Context, id string) (*jobs.Job, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM cla_jobs WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, jobs.Errorf(jobs.ENOTFOUND, "job %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	return decodeJob(data)
}

// ListJobs pages newest first through the created (or status) index. The
// cursor has the bbolt store's format: the created time and id of the
// first job not returned yet.
func (db *DB) ListJobs(ctx context.Context, q jobs.ListQuery) (jobs.JobPage, error) {
	page := jobs.JobPage{Jobs: []*jobs.Job{}}
	curNs, curID, err := decodeCursor(q.Cursor)
	if err != nil {
		return page, err
	}
	if q.Limit < 0 {
		q.Limit = 0
	}
	rows, err := db.pool.Query(ctx, `SELECT id, created_ns, data FROM cla_jobs
		WHERE ($1 = '' OR status = $1) AND ($2::bigint IS NULL OR (created_ns, id) <= ($2, $3::text COLLATE "C"))
		ORDER BY created_ns DESC, id DESC LIMIT $4`, string(q.Status), curNs, curID, q.Limit+1)
	if err != nil {
		return page, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var created int64
		var data []byte
		if err := rows.Scan(&id, &created, &data); err != nil {
			return page, fmt.Errorf("list jobs: %w", err)
		}
		if len(page.Jobs) == q.Limit {
			page.Next = encodeCursor(created, id)
			break
		}
		j, err := decodeJob(data)
		if err != nil {
			return page, err
		}
		page.Jobs = append(page.Jobs, j)
	}
	return page, rows.Err()
}

func encodeCursor(created int64, id string) string {
	b := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(b, uint64(created))
	return base64.RawURLEncoding.EncodeToString(append(b, id...))
}

func decodeCursor(s string) (*int64, string, error) {
	if s == "" {
		return nil, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 {
		return nil, "", jobs.Errorf(jobs.EINVALID, "cursor %q is not valid", s)
	}
	n := int64(binary.BigEndian.Uint64(b[:8]))
	return &n, string(b[8:]), nil
}

// JobByChannel returns the job a Slack channel is bound to.
func (db *DB) JobByChannel(ctx context.Context, channelID string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT job_id FROM cla_channels WHERE channel_id = $1`, channelID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", jobs.Errorf(jobs.ENOTFOUND, "channel %s is not bound to a job", channelID)
	}
	if err != nil {
		return "", fmt.Errorf("job by channel %s: %w", channelID, err)
	}
	return id, nil
}

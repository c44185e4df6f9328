package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// Counts is how many records of each kind the database holds.
type Counts struct {
	Jobs, Logs, Channels, Pending, Settled, Once, Freezes int
	// Annotations are annotation records; Files the file bytes kept apart.
	Annotations, Files int
}

// Counts counts the records of each kind.
func (db *DB) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM cla_jobs), (SELECT count(*) FROM cla_logs), (SELECT count(*) FROM cla_channels),
		(SELECT count(*) FROM cla_outbox WHERE NOT settled), (SELECT count(*) FROM cla_outbox WHERE settled),
		(SELECT count(*) FROM cla_once), (SELECT count(*) FROM cla_freezes),
		(SELECT count(*) FROM cla_annotations), (SELECT count(*) FROM cla_files)`).
		Scan(&c.Jobs, &c.Logs, &c.Channels, &c.Pending, &c.Settled, &c.Once, &c.Freezes, &c.Annotations, &c.Files)
	if err != nil {
		return c, fmt.Errorf("count records: %w", err)
	}
	return c, nil
}

// Importer writes records copied from another store; every write of one
// Import is in one transaction.
type Importer struct {
	ctx context.Context
	tx  pgx.Tx
}

// Import runs fn in one transaction on an empty database. A database that
// holds jobs, notifications or dedupe keys is refused unless force, which
// replaces its contents. If fn fails nothing is written.
func (db *DB) Import(ctx context.Context, force bool, fn func(*Importer) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE cla_jobs, cla_logs, cla_channels, cla_messages, cla_outbox, cla_outbox_heads, cla_waiting, cla_once, cla_freezes IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock tables: %w", err)
		}
		var jobsN, outboxN, onceN, freezesN int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM cla_jobs), (SELECT count(*) FROM cla_outbox), (SELECT count(*) FROM cla_once),
			(SELECT count(*) FROM cla_freezes)`).Scan(&jobsN, &outboxN, &onceN, &freezesN); err != nil {
			return fmt.Errorf("check target: %w", err)
		}
		if jobsN+outboxN+onceN+freezesN > 0 {
			if !force {
				return fmt.Errorf("target %s is not empty (%d jobs, %d notifications, %d dedupe keys, %d freezes): refusing to mix; --force replaces its contents",
					db.where, jobsN, outboxN, onceN, freezesN)
			}
			if _, err := tx.Exec(ctx, `TRUNCATE cla_logs, cla_annotations, cla_files, cla_channels, cla_messages, cla_outbox, cla_outbox_heads, cla_waiting, cla_once, cla_freezes, cla_confirmations, cla_homes, cla_jobs`); err != nil {
				return fmt.Errorf("empty target: %w", err)
			}
		}
		return fn(&Importer{ctx: ctx, tx: tx})
	})
}

// Job writes a job record, its log counter and the indexes derived from
// the record (gate announcements, the assignee index).
func (im *Importer) Job(j *jobs.Job, logSeq uint64) error {
	data, err := encodeJob(j)
	if err != nil {
		return err
	}
	_, err = im.tx.Exec(im.ctx, `INSERT INTO cla_jobs (id, status, created_ns, wake_ns, log_seq, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		j.ID, string(j.Status), nanos(j.CreatedAt), wakeOf(j), int64(logSeq), data)
	if err != nil {
		return fmt.Errorf("import job %s: %w", j.ID, err)
	}
	if err := indexMessages(im.ctx, im.tx, nil, j); err != nil {
		return err
	}
	recs := make([]jobs.NewAnnotationRecord, len(j.Annotations))
	for i, ref := range j.Annotations {
		recs[i] = jobs.NewAnnotationRecord{Ref: ref}
	}
	if err := putAnnotations(im.ctx, im.tx, j.ID, recs); err != nil {
		return err
	}
	return reindexWaiting(im.ctx, im.tx, j, nil)
}

// File writes the bytes of file annotation n of a job (after the job).
func (im *Importer) File(jobID string, n int, content []byte) error {
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_files (job_id, n, content) VALUES ($1, $2, $3)`, jobID, n, content); err != nil {
		return fmt.Errorf("import file %s/%d: %w", jobID, n, err)
	}
	return nil
}

// Log writes one log entry with its sequence number and key.
func (im *Importer) Log(jobID string, e jobs.LogEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode log entry: %w", err)
	}
	var key *string
	if e.Key != "" {
		key = &e.Key
	}
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_logs (job_id, seq, key, data) VALUES ($1, $2, $3, $4)`,
		jobID, int64(e.Seq), key, data); err != nil {
		return fmt.Errorf("import log %s/%d: %w", jobID, e.Seq, err)
	}
	return nil
}

// Channel writes a Slack channel binding.
func (im *Importer) Channel(channelID, jobID string) error {
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_channels (channel_id, job_id) VALUES ($1, $2)`, channelID, jobID); err != nil {
		return fmt.Errorf("import channel %s: %w", channelID, err)
	}
	return nil
}

// Notification writes a pending notification in its lane (moving the
// lane's head), or the id of a delivered one. Pending ones come in enqueue
// order, so each lane keeps its order.
func (im *Importer) Notification(n jobs.Notification, settled bool) error {
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	if settled {
		if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_outbox (id, job_id, due_ns, settled, data) VALUES ($1, $2, $3, true, $4)`,
			n.ID, n.JobID, nanos(n.DueAt), data); err != nil {
			return fmt.Errorf("import notification %s: %w", n.ID, err)
		}
		return nil
	}
	typ, lane, targeted := laneOf(n)
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_outbox (id, job_id, due_ns, settled, data, ch_type, lane, targeted)
		VALUES ($1, $2, $3, false, $4, $5, $6, $7)`, n.ID, n.JobID, nanos(n.DueAt), data, typ, lane, targeted); err != nil {
		return fmt.Errorf("import notification %s: %w", n.ID, err)
	}
	lanes := []laneRef{{typ, lane}}
	if targeted {
		lanes = append(lanes, laneRef{typ, "job:" + n.JobID})
	}
	return refreshHeads(im.ctx, im.tx, lanes)
}

// Once writes a dedupe key.
func (im *Importer) Once(key string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_once (key, first_seen) VALUES ($1, $2)`, key, at); err != nil {
		return fmt.Errorf("import dedupe key: %w", err)
	}
	return nil
}

// Freeze writes a deployment freeze, ended ones included (they are the
// record of when deployments were held).
func (im *Importer) Freeze(f jobs.Freeze) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode freeze %s: %w", f.ID, err)
	}
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO cla_freezes (id, until, record) VALUES ($1, $2, $3)`, f.ID, f.Until, data); err != nil {
		return fmt.Errorf("import freeze %s: %w", f.ID, err)
	}
	return nil
}

// Counts counts the records written so far, inside the transaction, so a
// mismatch can still roll the whole import back.
func (im *Importer) Counts() (Counts, error) {
	var c Counts
	err := im.tx.QueryRow(im.ctx, `SELECT
		(SELECT count(*) FROM cla_jobs), (SELECT count(*) FROM cla_logs), (SELECT count(*) FROM cla_channels),
		(SELECT count(*) FROM cla_outbox WHERE NOT settled), (SELECT count(*) FROM cla_outbox WHERE settled),
		(SELECT count(*) FROM cla_once), (SELECT count(*) FROM cla_freezes),
		(SELECT count(*) FROM cla_annotations), (SELECT count(*) FROM cla_files)`).
		Scan(&c.Jobs, &c.Logs, &c.Channels, &c.Pending, &c.Settled, &c.Once, &c.Freezes, &c.Annotations, &c.Files)
	if err != nil {
		return c, fmt.Errorf("count imported records: %w", err)
	}
	return c, nil
}

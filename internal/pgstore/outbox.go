package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// outboxClaimLock is the advisory lock key under which replicas claim.
const outboxClaimLock int64 = 0x636c61_6f7574 // "cla out"

// enqueue adds notifications to the outbox; an id seen before is dropped.
func enqueue(ctx context.Context, tx pgx.Tx, ns []jobs.Notification) error {
	var lanes []laneRef
	for _, n := range ns {
		data, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", n.ID, err)
		}
		typ, lane, targeted := laneOf(n)
		tag, err := tx.Exec(ctx, `INSERT INTO cla_outbox (id, job_id, due_ns, data, ch_type, lane, targeted)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			n.ID, n.JobID, nanos(n.DueAt), data, typ, lane, targeted)
		if err != nil {
			return fmt.Errorf("enqueue notification %s: %w", n.ID, err)
		}
		if tag.RowsAffected() > 0 {
			lanes = append(lanes, laneRef{typ, lane})
		}
	}
	return refreshHeads(ctx, tx, lanes)
}

// Outbox claims up to limit pending notifications due at or before t,
// oldest first, and returns the earliest due time of the rest. A claim is
// a lease: rows that another replica leased and has not given up yet are
// skipped (FOR UPDATE SKIP LOCKED, then lease_owner/lease_until), so each
// notification is handed to one replica at a time. This instance may read
// its own leased rows again; the outbox worker keeps it from sending one
// twice. Each new claim bumps the row's fencing token, and Settle/Defer
// from a replica whose lease was taken over change nothing.
func (db *DB) Outbox(ctx context.Context, t time.Time, limit int) ([]jobs.Notification, time.Time, error) {
	var out []jobs.Notification
	var next time.Time
	claimed := map[string]int64{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		out, next = nil, time.Time{}
		clear(claimed)
		// Claims take turns (a transaction-scoped advisory lock), and a job's
		// notifications stay with the replica that holds any of them: one
		// replica delivers a job's notifications, in order, as one outbox
		// would (an announcement and its update never race).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, outboxClaimLock); err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT seq FROM cla_outbox o
				WHERE NOT settled AND due_ns <= $1
				  AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= now())
				  AND NOT EXISTS (SELECT 1 FROM cla_outbox x WHERE x.job_id = o.job_id AND NOT x.settled
				      AND x.lease_owner IS NOT NULL AND x.lease_owner <> $2 AND x.lease_until > now())
				ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE cla_outbox o SET
				token = CASE WHEN o.lease_owner IS DISTINCT FROM $2 THEN o.token + 1 ELSE o.token END,
				lease_owner = $2, lease_until = now() + $4::interval
			FROM c WHERE o.seq = c.seq
			RETURNING o.seq, o.id, o.token, o.data`, nanos(t), db.owner, max(limit, 0), db.lease.String())
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		type row struct {
			seq int64
			n   jobs.Notification
		}
		var got []row
		for rows.Next() {
			var r row
			var id string
			var token int64
			var data []byte
			if err := rows.Scan(&r.seq, &id, &token, &data); err != nil {
				rows.Close()
				return fmt.Errorf("claim outbox: %w", err)
			}
			if err := json.Unmarshal(data, &r.n); err != nil {
				rows.Close()
				return fmt.Errorf("decode notification %s: %w", id, err)
			}
			claimed[id] = token
			got = append(got, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].seq < got[j].seq })
		seqs := make([]int64, 0, len(got))
		for _, r := range got {
			out = append(out, r.n)
			seqs = append(seqs, r.seq)
		}
		// The rest: due time, or when another replica's lease runs out.
		var nextNs *int64
		err = tx.QueryRow(ctx, `SELECT min(CASE WHEN h.until IS NOT NULL THEN greatest(o.due_ns, h.until) ELSE o.due_ns END)
			FROM cla_outbox o LEFT JOIN (
				SELECT job_id, (extract(epoch FROM max(lease_until)) * 1e9)::bigint AS until FROM cla_outbox
				WHERE NOT settled AND lease_owner IS NOT NULL AND lease_owner <> $1 AND lease_until > now()
				GROUP BY job_id) h ON h.job_id = o.job_id
			WHERE NOT o.settled AND o.seq <> ALL($2)`, db.owner, seqs).Scan(&nextNs)
		if err != nil {
			return fmt.Errorf("outbox next: %w", err)
		}
		if nextNs != nil {
			next = time.Unix(0, *nextNs)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	db.mu.Lock()
	for id, token := range claimed {
		db.tokens[id] = token
	}
	db.mu.Unlock()
	return out, next, nil
}

// token is the fencing token this instance holds for a notification, or
// -1 when it never claimed it (then no fence applies, as for a tool).
func (db *DB) token(id string) int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	tok, ok := db.tokens[id]
	if !ok {
		return -1
	}
	return tok
}

// done forgets the token of a notification this instance finished with.
func (db *DB) done(id string) {
	db.mu.Lock()
	delete(db.tokens, id)
	db.mu.Unlock()
}

func (db *DB) fenced(id string) {
	db.log.Warn("outbox lease lost to another replica", "notification", id)
}

// SettleNotification marks a delivered notification done; its id stays
// known so that the same cause is never enqueued again. A replica whose
// lease was taken over changes nothing. The lane's next notification
// becomes its head, and a targetless one waiting for this one may too.
func (db *DB) SettleNotification(ctx context.Context, id string) error {
	tok := db.token(id)
	fenced := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		fenced = false
		var settled bool
		var typ, lane, jobID *string
		var targeted *bool
		err := tx.QueryRow(ctx, `SELECT settled, ch_type, lane, targeted, job_id FROM cla_outbox WHERE id = $1`, id).
			Scan(&settled, &typ, &lane, &targeted, &jobID)
		if errors.Is(err, pgx.ErrNoRows) {
			return jobs.Errorf(jobs.ENOTFOUND, "notification %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("settle notification %s: %w", id, err)
		}
		if settled {
			return jobs.Errorf(jobs.ENOTFOUND, "notification %s not pending", id)
		}
		tag, err := tx.Exec(ctx, `UPDATE cla_outbox SET settled = true, lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND NOT settled AND ($2 < 0 OR token = $2)`, id, tok)
		if err != nil {
			return fmt.Errorf("settle notification %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			fenced = true
			return nil
		}
		if typ == nil || lane == nil {
			return nil
		}
		lanes := []laneRef{{*typ, *lane}}
		if targeted != nil && *targeted && jobID != nil {
			lanes = append(lanes, laneRef{*typ, "job:" + *jobID})
		}
		return refreshHeads(ctx, tx, lanes)
	})
	if err != nil {
		return err
	}
	if fenced {
		db.fenced(id)
		return nil
	}
	db.done(id)
	return nil
}

// DeferNotification records a failed attempt and the next due time, and
// gives up the lease so any replica may try again then.
func (db *DB) DeferNotification(ctx context.Context, id string, next time.Time, lastErr string) error {
	tok := db.token(id)
	fenced := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var data []byte
		var token int64
		err := tx.QueryRow(ctx, `SELECT data, token FROM cla_outbox WHERE id = $1 AND NOT settled FOR UPDATE`, id).Scan(&data, &token)
		if errors.Is(err, pgx.ErrNoRows) {
			return jobs.Errorf(jobs.ENOTFOUND, "notification %s not pending", id)
		}
		if err != nil {
			return fmt.Errorf("defer notification %s: %w", id, err)
		}
		if tok >= 0 && token != tok {
			fenced = true // another replica owns it now
			return nil
		}
		var n jobs.Notification
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("decode notification %s: %w", id, err)
		}
		n.Attempts++
		n.DueAt, n.LastError = next, lastErr
		if data, err = json.Marshal(n); err != nil {
			return fmt.Errorf("encode notification %s: %w", id, err)
		}
		_, err = tx.Exec(ctx, `UPDATE cla_outbox SET data = $2, due_ns = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1`,
			id, data, nanos(next))
		if err != nil {
			return fmt.Errorf("defer notification %s: %w", id, err)
		}
		typ, lane, _ := laneOf(n)
		return refreshHeads(ctx, tx, []laneRef{{typ, lane}})
	})
	switch {
	case err != nil:
		return err
	case fenced:
		db.fenced(id)
	default:
		db.done(id)
	}
	return nil
}

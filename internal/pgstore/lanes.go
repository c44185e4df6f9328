package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
)

// The outbox lanes (issue 15): each pending row carries its channel type
// and lane (target, or "job:<id>" without one); cla_outbox_heads holds each
// lane's deliverable head with its due time, moved in the transaction that
// enqueues, settles or defers. A pass reads the due heads from an index
// and then only the leading rows of their lanes.

// laneOf splits a notification's lane (jobs.Notification.Lane) into the
// channel type and the lane column.
func laneOf(n jobs.Notification) (typ, lane string, targeted bool) {
	if t := n.Channel.Target(); t != "" {
		return string(n.Channel.Type), t, true
	}
	return string(n.Channel.Type), "job:" + n.JobID, false
}

type laneRef struct{ typ, lane string }

func (l laneRef) key() string { return l.typ + "\x00" + l.lane }

// lockKey is the advisory lock that serializes head updates of one lane.
func (l laneRef) lockKey() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(l.key())) // a hash.Hash never returns an error
	return int64(h.Sum64())
}

// refreshHeads recomputes the heads of the lanes, in a fixed order so that
// transactions touching several lanes cannot deadlock. The lane's advisory
// lock is taken before it is read, so the read sees every change committed
// by a transaction that held the lock before.
func refreshHeads(ctx context.Context, tx pgx.Tx, lanes []laneRef) error {
	slices.SortFunc(lanes, func(a, b laneRef) int { return strings.Compare(a.key(), b.key()) })
	lanes = slices.Compact(lanes)
	for _, l := range lanes {
		if err := refreshHead(ctx, tx, l); err != nil {
			return fmt.Errorf("outbox head %s: %w", l.key(), err)
		}
	}
	return nil
}

func refreshHead(ctx context.Context, tx pgx.Tx, l laneRef) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, l.lockKey()); err != nil {
		return err
	}
	var seq, due int64
	var targeted bool
	var jobID string
	err := tx.QueryRow(ctx, `SELECT seq, due_ns, targeted, job_id FROM cla_outbox
		WHERE ch_type = $1 AND lane = $2 AND NOT settled ORDER BY seq LIMIT 1`, l.typ, l.lane).Scan(&seq, &due, &targeted, &jobID)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, `DELETE FROM cla_outbox_heads WHERE ch_type = $1 AND lane = $2`, l.typ, l.lane)
		return err
	}
	if err != nil {
		return err
	}
	if !targeted {
		var blocked bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cla_outbox WHERE ch_type = $1 AND job_id = $2
			AND targeted AND NOT settled AND seq < $3)`, l.typ, jobID, seq).Scan(&blocked)
		if err != nil {
			return err
		}
		if blocked {
			_, err = tx.Exec(ctx, `DELETE FROM cla_outbox_heads WHERE ch_type = $1 AND lane = $2`, l.typ, l.lane)
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO cla_outbox_heads (ch_type, lane, seq, due_ns) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ch_type, lane) DO UPDATE SET seq = EXCLUDED.seq, due_ns = EXCLUDED.due_ns`, l.typ, l.lane, seq, due)
	return err
}

// headsPage is how many due heads one query reads.
const headsPage = 128

// OutboxDue reads the due lane heads from their index, earliest first, and
// claims each lane's leading due notifications for this replica (a lease,
// as Outbox takes). A lane whose head another replica holds is left to it.
func (db *DB) OutboxDue(ctx context.Context, q jobs.OutboxQuery) (jobs.OutboxWork, error) {
	var work jobs.OutboxWork
	var heldUntil int64 // earliest end of another replica's lease on a due head
	maxLanes, perLane := q.Limits()
	afterDue, afterSeq := int64(-1<<63), int64(-1<<63)
	for len(work.Lanes) < maxLanes {
		rows, err := db.pool.Query(ctx, `SELECT ch_type, lane, due_ns, seq FROM cla_outbox_heads
			WHERE due_ns <= $1 AND (due_ns, seq) > ($2, $3) ORDER BY due_ns, seq LIMIT $4`, nanos(q.At), afterDue, afterSeq, headsPage)
		if err != nil {
			return work, fmt.Errorf("outbox heads: %w", err)
		}
		var heads []laneRef
		for rows.Next() {
			var l laneRef
			if err := rows.Scan(&l.typ, &l.lane, &afterDue, &afterSeq); err != nil {
				rows.Close()
				return work, fmt.Errorf("outbox heads: %w", err)
			}
			heads = append(heads, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return work, fmt.Errorf("outbox heads: %w", err)
		}
		for _, l := range heads {
			if len(work.Lanes) == maxLanes {
				break
			}
			if q.Skip != nil && q.Skip(l.key()) {
				continue
			}
			items, held, err := db.claimLane(ctx, l, q.At, perLane)
			if err != nil {
				return work, err
			}
			if held != 0 && (heldUntil == 0 || held < heldUntil) {
				heldUntil = held
			}
			if len(items) > 0 {
				work.Lanes = append(work.Lanes, jobs.OutboxLane{Key: l.key(), Items: items})
			}
		}
		if len(heads) < headsPage {
			break
		}
	}
	var next *int64
	if err := db.pool.QueryRow(ctx, `SELECT min(due_ns) FROM cla_outbox_heads WHERE due_ns > $1`, nanos(q.At)).Scan(&next); err != nil {
		return work, fmt.Errorf("outbox next: %w", err)
	}
	if next != nil {
		work.Next = time.Unix(0, *next).UTC()
	}
	// A due lane another replica holds is retried when that lease ends:
	// if the replica died, nothing else would wake this one to take over.
	if heldUntil != 0 {
		if until := time.Unix(0, heldUntil).UTC(); work.Next.IsZero() || until.Before(work.Next) {
			work.Next = until
		}
	}
	pending, err := db.pendingCount(ctx)
	work.Pending = pending
	return work, err
}

// claimLane leases the lane's leading notifications that are due, not
// waiting behind an older targeted one, and not held by another replica.
// When the lane's first due notification is held by another replica,
// heldUntil is when that lease ends (Unix nanoseconds, else 0).
func (db *DB) claimLane(ctx context.Context, l laneRef, at time.Time, limit int) (out []jobs.Notification, heldUntil int64, err error) {
	claimed := map[string]int64{}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		out, heldUntil = nil, 0
		clear(claimed)
		rows, err := tx.Query(ctx, `SELECT seq, id, due_ns, targeted, job_id, data,
				lease_owner IS NULL OR lease_owner = $3 OR lease_until <= now(),
				COALESCE((extract(epoch FROM lease_until) * 1e9)::bigint, 0)
			FROM cla_outbox WHERE ch_type = $1 AND lane = $2 AND NOT settled ORDER BY seq LIMIT $4`, l.typ, l.lane, db.owner, limit)
		if err != nil {
			return err
		}
		type row struct {
			seq      int64
			id       string
			targeted bool
			job      string
			n        jobs.Notification
		}
		var lead []row
		stop := false
		for rows.Next() {
			var r row
			var due int64
			var data []byte
			var free bool
			var until int64
			if err := rows.Scan(&r.seq, &r.id, &due, &r.targeted, &r.job, &data, &free, &until); err != nil {
				rows.Close()
				return err
			}
			if !stop && due <= nanos(at) && !free && len(lead) == 0 {
				heldUntil = until
			}
			if stop || due > nanos(at) || !free {
				stop = true
				continue
			}
			if err := json.Unmarshal(data, &r.n); err != nil {
				rows.Close()
				return fmt.Errorf("decode notification %s: %w", r.id, err)
			}
			lead = append(lead, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(lead) > 0 && !lead[0].targeted {
			var blocker *int64
			err := tx.QueryRow(ctx, `SELECT min(seq) FROM cla_outbox WHERE ch_type = $1 AND job_id = $2 AND targeted AND NOT settled`,
				l.typ, lead[0].job).Scan(&blocker)
			if err != nil {
				return err
			}
			for i, r := range lead {
				if blocker != nil && r.seq > *blocker {
					lead = lead[:i]
					break
				}
			}
		}
		seqs := make([]int64, len(lead))
		for i, r := range lead {
			seqs[i] = r.seq
		}
		crow, err := tx.Query(ctx, `UPDATE cla_outbox SET
				token = CASE WHEN lease_owner IS DISTINCT FROM $2 THEN token + 1 ELSE token END,
				lease_owner = $2, lease_until = now() + $3::interval
			WHERE seq = ANY($1) AND NOT settled AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= now())
			RETURNING seq, token`, seqs, db.owner, db.lease.String())
		if err != nil {
			return err
		}
		tokens := map[int64]int64{}
		for crow.Next() {
			var seq, tok int64
			if err := crow.Scan(&seq, &tok); err != nil {
				crow.Close()
				return err
			}
			tokens[seq] = tok
		}
		crow.Close()
		if err := crow.Err(); err != nil {
			return err
		}
		for _, r := range lead {
			tok, ok := tokens[r.seq]
			if !ok {
				break // taken meanwhile: the lane stops before it
			}
			claimed[r.id] = tok
			out = append(out, r.n)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim outbox lane: %w", err)
	}
	db.mu.Lock()
	for id, tok := range claimed {
		db.tokens[id] = tok
	}
	db.mu.Unlock()
	return out, heldUntil, nil
}

// pendingEvery is how often OutboxDue recounts the pending notifications
// (a count reads the whole pending index, so it is not done every pass).
const pendingEvery = 30 * time.Second

func (db *DB) pendingCount(ctx context.Context) (int, error) {
	db.mu.Lock()
	n, at := db.pending, db.pendingAt
	db.mu.Unlock()
	if !at.IsZero() && time.Since(at) < pendingEvery {
		return n, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM cla_outbox WHERE NOT settled`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	db.mu.Lock()
	db.pending, db.pendingAt = n, time.Now()
	db.mu.Unlock()
	return n, nil
}

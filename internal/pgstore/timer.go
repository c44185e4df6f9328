package pgstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultTimerLease is how long a replica holds the due jobs it claimed,
// unless Options.TimerLease says otherwise.
const defaultTimerLease = 10 * time.Second

// DueJobs claims the jobs due at or before t, earliest first, and returns
// the next wake time after them. A claim is a short lease (FOR UPDATE SKIP
// LOCKED, then timer_owner/timer_lease_until): replicas do not all fire the
// same job, and the jobs of a replica that died are fired by another when
// its lease ends. The lease only spreads the work: firing itself locks the
// job's row and re-checks the timer, so a timer fires once even if two
// replicas hold it.
func (db *DB) DueJobs(ctx context.Context, t time.Time, limit int) ([]string, time.Time, error) {
	var ids []string
	var next time.Time
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		ids, next = nil, time.Time{}
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT id FROM cla_jobs
				WHERE wake_ns IS NOT NULL AND wake_ns <= $1
				  AND (timer_owner IS NULL OR timer_owner = $2 OR timer_lease_until <= now())
				ORDER BY wake_ns, id LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE cla_jobs j SET timer_owner = $2, timer_lease_until = now() + $4::interval
			FROM c WHERE j.id = c.id
			RETURNING j.id, j.wake_ns`, nanos(t), db.owner, max(limit, 0), db.timerLease.String())
		if err != nil {
			return fmt.Errorf("claim due jobs: %w", err)
		}
		type due struct {
			id   string
			wake int64
		}
		var got []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.wake); err != nil {
				rows.Close()
				return fmt.Errorf("claim due jobs: %w", err)
			}
			got = append(got, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim due jobs: %w", err)
		}
		sort.Slice(got, func(i, j int) bool {
			if got[i].wake != got[j].wake {
				return got[i].wake < got[j].wake
			}
			return got[i].id < got[j].id
		})
		claimed := make([]string, 0, len(got))
		for _, d := range got {
			ids = append(ids, d.id)
			claimed = append(claimed, d.id)
		}
		// The rest: a due job another replica holds wakes us when its
		// lease ends; a future one at its wake time.
		var nextNs *int64
		err = tx.QueryRow(ctx, `SELECT min(CASE WHEN timer_owner IS NOT NULL AND timer_owner <> $1 AND timer_lease_until > now()
				THEN greatest(wake_ns, (extract(epoch FROM timer_lease_until) * 1e9)::bigint) ELSE wake_ns END)
			FROM cla_jobs WHERE wake_ns IS NOT NULL AND id <> ALL($2)`, db.owner, claimed).Scan(&nextNs)
		if err != nil {
			return fmt.Errorf("next wake: %w", err)
		}
		if nextNs != nil {
			next = time.Unix(0, *nextNs)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return ids, next, nil
}

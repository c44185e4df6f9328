package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Secret returns the shared random secret called name, creating it once
// for every replica (the first insert wins), so that a web session signed
// by one replica is accepted by the others.
func (db *DB) Secret(ctx context.Context, name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret %s: %w", name, err)
	}
	fresh := "cla_" + base64.RawURLEncoding.EncodeToString(b)
	if _, err := db.pool.Exec(ctx, `INSERT INTO cla_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return "", fmt.Errorf("store secret %s: %w", name, err)
	}
	var v string
	if err := db.pool.QueryRow(ctx, `SELECT value FROM cla_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}

// Listen delivers the ids of jobs changed by other replicas (LISTEN on
// the store's change channel) to changed until ctx ends. Notifications are a hint and
// are not replayed: after a lost connection, and every resync interval in
// any case, it calls resync so that waiters re-read the store.
func (db *DB) Listen(ctx context.Context, resyncEvery time.Duration, changed func(jobID string), resync func()) error {
	if resyncEvery <= 0 {
		resyncEvery = 5 * time.Second
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, resyncEvery, changed, resync)
		if ctx.Err() != nil {
			return nil
		}
		db.log.Warn("change listener lost its connection; retrying", "err", err, "in", backoff)
		resync()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, resyncEvery time.Duration, changed func(string), resync func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.changes}.Sanitize()); err != nil {
		conn.Conn().Close(context.Background()) //nolint:errcheck // a broken connection is dropped
		return err
	}
	defer func() {
		// Leave the pooled connection clean (or drop it if that fails).
		if _, err := conn.Exec(context.WithoutCancel(ctx), "UNLISTEN *"); err != nil {
			conn.Conn().Close(context.Background()) //nolint:errcheck
		}
	}()
	resync() // whatever happened before LISTEN took effect
	last := time.Now()
	for {
		wctx, cancel := context.WithTimeout(ctx, resyncEvery)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if time.Since(last) >= resyncEvery {
			resync()
			last = time.Now()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if wctx.Err() != nil { // only the resync timeout
				continue
			}
			return err
		}
		owner, id, ok := strings.Cut(n.Payload, " ")
		if ok && owner != db.owner {
			changed(id)
		}
	}
}

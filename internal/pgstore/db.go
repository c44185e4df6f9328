// Package pgstore is the PostgreSQL implementation of jobs.Store, for
// running several cla replicas on one database. Every state change is one
// SQL transaction that locks the job's row, so concurrent changes to one
// job (from any replica) serialize and a refused change writes nothing.
// The schema is embedded and migrated at Open under an advisory lock.
package pgstore

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ jobs.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key held while migrating, so that
// replicas starting together apply each migration once.
const migrationLock int64 = 0x636c61_6d6967 // "cla mig"

// defaultMaxConns is the pool size when the URL sets no pool_max_conns.
const defaultMaxConns = 16

// Options tunes a DB; the zero value takes the defaults.
type Options struct {
	// ConnectTimeout bounds the first connection at Open (default 10s).
	ConnectTimeout time.Duration
	// Lease is how long a replica owns the outbox notifications it read
	// before another replica may take them over (default 30s).
	Lease time.Duration
	// TimerLease is how long a replica holds the due jobs it claimed before
	// another replica may fire them (default 10s).
	TimerLease time.Duration
	// Logger receives the store's own messages (default slog.Default()).
	Logger *slog.Logger
}

// DB is a PostgreSQL-backed jobs.Store. It is safe for concurrent use.
type DB struct {
	pool  *pgxpool.Pool
	where string // user@host/db, never the password
	owner string // this instance's outbox lease owner
	// changes is the LISTEN/NOTIFY channel of this store's schema.
	changes string
	lease   time.Duration
	// timerLease is how long a claim on due jobs lasts.
	timerLease time.Duration
	log        *slog.Logger

	mu        sync.Mutex
	tokens    map[string]int64 // outbox id → fencing token this instance holds
	pending   int              // outbox rows not settled, counted at pendingAt
	pendingAt time.Time
}

// IsURL reports whether a store setting names PostgreSQL rather than a
// bbolt file path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL's user, host and database without the password or
// parameters, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://(unparsable url)"
	}
	user := ""
	if u.User != nil {
		user = u.User.Username() + "@"
	}
	return u.Scheme + "://" + user + u.Host + u.Path
}

// Open connects to the database named by a postgres:// URL (pool settings
// such as pool_max_conns come from the URL too), checks that the server is
// reachable and the password accepted, and migrates the schema. A schema
// newer than this binary knows is refused and nothing is written.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	where := Redact(rawURL)
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.TimerLease <= 0 {
		opts.TimerLease = defaultTimerLease
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: invalid url: %w", where, redactErr(err, rawURL))
	}
	if !strings.Contains(rawURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns // pgx's default (the CPU count, at least 4) queues a busy replica
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.ConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: %w", where, err)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, connectError(where, err)
	}
	db := &DB{pool: pool, where: where, owner: newOwner(), lease: opts.Lease, timerLease: opts.TimerLease, log: opts.Logger.With("component", "pgstore"), tokens: map[string]int64{}}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(pctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store %s: read current schema: %w", where, err)
	}
	db.changes = changeChannel(schema)
	return db, nil
}

// connectError names the usual causes of a failed first connection.
func connectError(where string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000":
			return fmt.Errorf("postgres store %s: authentication failed (wrong user or password): %s", where, pgErr.Message)
		case "3D000":
			return fmt.Errorf("postgres store %s: database does not exist: %s", where, pgErr.Message)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres store %s: unreachable (no answer in time): %w", where, err)
	}
	return fmt.Errorf("postgres store %s: unreachable: %w", where, err)
}

func redactErr(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool returns the connection pool (for tools such as cla migrate).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// String names the database without its password.
func (db *DB) String() string { return db.where }

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		data, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the missing migrations, each in its own transaction,
// holding a session advisory lock so that concurrent starts take turns.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres store %s: read migrations: %w", db.where, err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return connectError(db.where, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres store %s: migration lock: %w", db.where, err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			// The lock ends with the session anyway; another replica
			// starting now waits until the pool closes this connection.
			db.log.Warn("release migration lock", "err", err)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS cla_schema (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres store %s: create schema table: %w", db.where, err)
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM cla_schema").Scan(&current); err != nil {
		return fmt.Errorf("postgres store %s: read schema version: %w", db.where, err)
	}
	latest := ms[len(ms)-1].version
	if current > latest {
		return fmt.Errorf("postgres store %s: database schema version %d is newer than this cla supports (%d): upgrade cla, or point it at another database", db.where, current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO cla_schema (version) VALUES ($1)", m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres store %s: migration %s: %w", db.where, m.name, err)
		}
		db.log.Info("schema migrated", "version", m.version)
	}
	return nil
}

// inTx runs fn in one transaction; a domain error from fn rolls it back
// and is returned as is.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// Bounds of a stored time: the same clamping as the bbolt store's keys,
// so that a far-future timer sorts last instead of wrapping around.
var (
	minKeyTime = time.Unix(0, 0)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) int64 {
	switch {
	case t.After(maxKeyTime):
		return math.MaxInt64
	case t.After(minKeyTime):
		return t.UnixNano()
	}
	return 0
}

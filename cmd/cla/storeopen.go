package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
)

// openedStore is the store serve runs on and what differs between the two
// kinds: where shared secrets live, and (PostgreSQL) the change listener
// that wakes this replica for changes made by others.
type openedStore struct {
	fullStore
	where  string
	close  func() error
	secret func(ctx context.Context, name, what string) (string, error)
	listen func(ctx context.Context, svc *jobs.Service) error // nil for bbolt
}

// fullStore is what both cla stores offer: the jobs and the Slack side's
// shared state (pending TalkBack confirmations, App Home subscriptions).
type fullStore interface {
	jobs.Store
	jobs.ChatState
}

// storeSetting is the configured store: store if set, else the db path.
func storeSetting(cfg *config.Config) string {
	if cfg.Store != "" {
		return cfg.Store
	}
	return cfg.DB
}

// openStore opens PostgreSQL for a postgres:// URL and the bbolt file
// otherwise. With a bbolt path in store, files kept next to the database
// (admin token, session key) follow it.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*openedStore, error) {
	setting := storeSetting(cfg)
	if pgstore.IsURL(setting) {
		db, err := pgstore.Open(ctx, setting, pgstore.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return &openedStore{fullStore: db, where: db.String(), close: db.Close,
			secret: func(ctx context.Context, name, _ string) (string, error) { return db.Secret(ctx, name) },
			listen: func(ctx context.Context, svc *jobs.Service) error {
				return db.Listen(ctx, 5*time.Second, svc.ChangedElsewhere, func() { svc.ChangedElsewhere("") })
			}}, nil
	}
	cfg.DB = setting
	db, err := store.Open(setting)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: another process holds it (a cla serve already running here?): stop that one, or give this one its own --db: %w", setting, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", setting, err)
	}
	return &openedStore{fullStore: db, where: setting, close: db.Close,
		secret: func(_ context.Context, name, what string) (string, error) {
			s, _, err := secretFile(filepath.Join(filepath.Dir(setting), "cla."+name), what)
			return s, err
		}}, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"time"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/store"
)

func runMigrate(ctx context.Context, e *env, args []string) int {
	var from, to string
	var force bool
	fs := newFlags(e, "migrate", help{usage: "cla migrate --from cla.db --to postgres://… [--force]",
		about: "Copies everything in a bbolt database (jobs, logs with annotations and files, channel bindings,\n" +
			"pending and delivered notifications, timers, dedupe keys, deployment freezes) into PostgreSQL in one transaction, then\n" +
			"verifies that every count matches; on any mismatch or error nothing is written. A target that\n" +
			"already holds data is refused unless --force, which replaces its contents. Stop cla serve first.",
		examples: "  cla migrate --from /var/lib/cla/cla.db --to postgres://cla:…@db.internal:5432/cla"})
	fs.StringVar(&from, "from", "", "bbolt database file to copy from (required)")
	fs.StringVar(&to, "to", "", "postgres://… URL to copy to (required; env CLA_STORE)")
	fs.BoolVar(&force, "force", false, "replace the contents of a non-empty target")
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	if to == "" {
		to = e.getenv("CLA_STORE")
	}
	switch {
	case from == "":
		e.errorf("migrate: --from (the bbolt file) is required")
		return exitError
	case !pgstore.IsURL(to):
		e.errorf("migrate: --to must be a postgres:// URL")
		return exitError
	}
	if _, err := os.Stat(from); errors.Is(err, iofs.ErrNotExist) {
		e.errorf("migrate: %s does not exist", from)
		return exitError
	}
	c, err := migrate(ctx, from, to, force)
	if err != nil {
		e.errorf("migrate: %v", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "copied %d jobs, %d log entries, %d channel bindings, %d pending and %d delivered notifications, %d dedupe keys, %d freezes; counts verified (%d annotations and %d files too)\n",
		c.Jobs, c.Logs, c.Channels, c.Pending, c.Settled, c.Once, c.Freezes, c.Annotations, c.Files)
	return exitOK
}

// migrate copies a bbolt store into PostgreSQL in one transaction and
// compares every count before it commits.
func migrate(ctx context.Context, from, to string, force bool) (store.Counts, error) {
	src, err := store.Open(from)
	if err != nil {
		return store.Counts{}, fmt.Errorf("%w (is cla serve still running on it?)", err)
	}
	defer src.Close()
	dst, err := pgstore.Open(ctx, to, pgstore.Options{})
	if err != nil {
		return store.Counts{}, err
	}
	defer dst.Close()
	var want store.Counts
	err = dst.Import(ctx, force, func(im *pgstore.Importer) error {
		var err error
		want, err = src.Export(ctx, store.Visitor{
			Job:          im.Job,
			Log:          im.Log,
			File:         im.File,
			Channel:      im.Channel,
			Notification: im.Notification,
			Once:         func(key string, at time.Time) error { return im.Once(key, at) },
			Freeze:       im.Freeze,
		})
		if err != nil {
			return err
		}
		got, err := im.Counts()
		if err != nil {
			return err
		}
		if store.Counts(got) != want {
			return fmt.Errorf("counts differ after copying (source %+v, target %+v): nothing written", want, got)
		}
		return nil
	})
	return want, err
}

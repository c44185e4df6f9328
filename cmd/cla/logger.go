package main

import (
	"context"
	"log/slog"
	"slices"
)

// newLogger is the server's logger: text on stderr at the given level, each
// line naming one component.
func newLogger(e *env, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level)) // config.Validate refused a bad level already
	base := slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl})
	return slog.New(&oneComponent{base: base, h: base}).With("component", "cla")
}

// oneComponent is a slog.Handler that keeps a single "component"
// attribute, the last one given: the wiring names a part and the package
// names itself again, and a line should say component=bot once rather than
// component=cla component=slack component=bot, which a query for
// component=cla would match.
type oneComponent struct {
	base  slog.Handler // without attributes
	attrs []slog.Attr
	h     slog.Handler // base with attrs
}

// Enabled implements slog.Handler.
func (o *oneComponent) Enabled(ctx context.Context, l slog.Level) bool { return o.h.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (o *oneComponent) Handle(ctx context.Context, r slog.Record) error { return o.h.Handle(ctx, r) }

// WithAttrs implements slog.Handler; a new component replaces the old one.
func (o *oneComponent) WithAttrs(as []slog.Attr) slog.Handler {
	merged := slices.Clone(o.attrs)
	for _, a := range as {
		if a.Key == "component" {
			merged = slices.DeleteFunc(merged, func(b slog.Attr) bool { return b.Key == "component" })
		}
		merged = append(merged, a)
	}
	return &oneComponent{base: o.base, attrs: merged, h: o.base.WithAttrs(merged)}
}

// WithGroup implements slog.Handler; attributes after a group are the
// group's own, so the plain handler takes over.
func (o *oneComponent) WithGroup(name string) slog.Handler { return o.h.WithGroup(name) }

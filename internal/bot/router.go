package bot

import (
	"context"
	"time"
)

// Route is how the bot treats one kind of request.
type Route struct {
	// Ack returns the payload sent with the ack (nil for a bare ack); a
	// slash command or a view submission answers through it. It must not
	// call Slack. Unless AckWrites, it runs on the socket loop and must be
	// fast.
	Ack func(in *Incoming) any
	// AckWrites says Ack writes to the store (a modal submission resolves
	// a gate): it then runs off the socket loop, so the loop never waits
	// for a write, and must bound itself within Slack's 3 s.
	AckWrites bool
	// Handle does the slow work after the ack, with bounded concurrency.
	Handle func(ctx context.Context, in *Incoming)
	// Dedupe makes Handle run once per event (or envelope) across
	// redeliveries and restarts, through the store's Once.
	Dedupe bool
}

// router maps kinds to routes. Messages are not here: they go to the
// mirror, which acks after the durable append.
type router struct {
	b      *Bot
	routes map[Kind]Route
}

func newRouter(b *Bot) *router {
	r := &router{b: b, routes: map[Kind]Route{}}
	r.routes[KindMention] = Route{Handle: b.handleMention, Dedupe: true}
	return r
}

// SetRoute installs the route for a kind (slash commands, interactions, App
// Home), replacing any earlier one. Call it before Run.
func (b *Bot) SetRoute(k Kind, r Route) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.router.routes[k] = r
}

// route acks one request and hands it to its handler.
func (r *router) route(ctx context.Context, in *Incoming, ack func(any)) {
	r.b.cfg.Metrics.envelopes.WithLabelValues(string(in.Kind)).Inc()
	if in.received.IsZero() {
		in.received = time.Now()
	}
	if in.Kind == KindMessage {
		r.b.mirror.enqueue(ctx, in, ack)
		return
	}
	r.b.mu.Lock()
	rt, ok := r.routes[in.Kind]
	r.b.mu.Unlock()
	if ok && rt.Ack != nil && rt.AckWrites {
		r.b.pending.Add(1)
		go func() {
			defer r.b.pending.Done()
			r.finish(ctx, in, rt, ok, ack, rt.Ack(in))
		}()
		return
	}
	var payload any
	if ok && rt.Ack != nil {
		payload = rt.Ack(in)
	}
	r.finish(ctx, in, rt, ok, ack, payload)
}

// finish acks a request and queues its handler.
func (r *router) finish(ctx context.Context, in *Incoming, rt Route, ok bool, ack func(any), payload any) {
	ack(payload)
	r.b.cfg.Metrics.ack.WithLabelValues(string(in.Kind)).Observe(time.Since(in.received).Seconds())
	if !ok || rt.Handle == nil {
		return
	}
	r.b.spawn(func(ctx context.Context) {
		if rt.Dedupe && !r.b.firstTime(ctx, in) {
			return
		}
		rt.Handle(ctx, in)
	})
}

// firstTime records the request's event id (or envelope id) durably and
// reports whether it is new, so a redelivery or a restart never handles
// it twice.
func (b *Bot) firstTime(ctx context.Context, in *Incoming) bool {
	key := "slack-event:" + in.EventID
	if in.EventID == "" {
		key = "slack-envelope:" + in.EnvelopeID
	}
	fresh, err := b.svc.Store().Once(ctx, key)
	if err != nil {
		b.log.Error("dedupe failed; handling anyway", "key", key, "err", err)
		return true
	}
	if !fresh {
		b.log.Debug("duplicate request dropped", "key", key)
	}
	return fresh
}

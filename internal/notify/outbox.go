package notify

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Outbox tuning. Concurrent deliveries (one per lane) are bounded per
// channel type and per target by Budgets (budget.go).
const (
	// perLane caps the notifications one lane delivers per pass; the
	// lane's release starts the next pass.
	perLane = 64
	// deliveryTimeout bounds one Notify call, so a hung target cannot
	// hold its lane forever.
	deliveryTimeout = 60 * time.Second
	// coalesce groups a burst of job changes into one pass.
	coalesce = 10 * time.Millisecond
)

// horizon is later than any due time (tests read every pending
// notification with it).
var horizon = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Outbox is the one worker that delivers notifications. It reads the
// store's durable outbox, hands each notification to the Notifier of its
// channel type, settles it after success and defers it with backoff after
// a failure. Lanes (channel type + target) are delivered in order and
// independently: a dead webhook never holds Slack back. It sleeps until
// the next due retry or the next change that enqueued notifications (a
// chat line or a log append wakes nothing); it never polls. A pass reads
// only the lane heads that are due (jobs.Store.OutboxDue), so a backlog
// behind a dead target costs nothing until its retry is due.
type Outbox struct {
	svc       *jobs.Service
	notifiers map[jobs.ChannelType]jobs.Notifier
	log       *slog.Logger
	poke      chan struct{}
	jitter    func() float64
	timeout   time.Duration
	metrics   *Metrics

	mu    sync.Mutex
	slots slots // guarded by mu
	wg    sync.WaitGroup
}

// NewOutbox builds the worker; notifiers maps a channel type ("slack",
// "email", "webhook") to its Notifier. A type without one is settled
// unsent, with a job log line saying it was skipped and why (Slack or SMTP
// simply not configured).
func NewOutbox(svc *jobs.Service, notifiers map[jobs.ChannelType]jobs.Notifier, log *slog.Logger) *Outbox {
	return &Outbox{svc: svc, notifiers: notifiers, log: log.With("component", "notify"),
		poke: make(chan struct{}, 1), slots: newSlots(Budgets{}),
		jitter: rand.Float64, timeout: deliveryTimeout, metrics: NewMetrics(nil)}
}

// SetBudgets sets how many deliveries may run at once per channel type and
// per target (zero fields are the defaults); call it before Run.
func (o *Outbox) SetBudgets(b Budgets) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.slots = newSlots(b)
}

// SetMetrics makes the worker count into m (registered by the caller);
// call it before Run. Without it the counts go to an unregistered set.
func (o *Outbox) SetMetrics(m *Metrics) {
	if m != nil {
		o.metrics = m
	}
}

// Metrics returns what the worker counts into.
func (o *Outbox) Metrics() *Metrics { return o.metrics }

// Poke makes the worker look at the outbox now, for callers that enqueue
// without going through the Service's broker.
func (o *Outbox) Poke() {
	select {
	case o.poke <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for deliveries in flight. A
// notification interrupted by the shutdown stays pending and is sent at
// the next start.
func (o *Outbox) Run(ctx context.Context) error {
	defer o.wg.Wait()
	for {
		changed := o.svc.Broker().WatchOutbox()
		next := o.pass(ctx)
		if !o.sleep(ctx, next, changed) {
			return nil
		}
	}
}

// pass reads the due lane heads, starts a delivery for each lane that is
// not busy and whose type and target have room in their budgets, and
// returns when the next stopped lane becomes due. A lane left out for want
// of budget is planned again when a delivery finishes (which pokes).
func (o *Outbox) pass(ctx context.Context) time.Time {
	now := o.svc.Now()
	// Which lanes are busy is taken before the read: a lane finishing in
	// between has settled what the read still shows as pending, and must
	// not be planned again from that stale copy (a second delivery).
	busy, free := o.busyLanes()
	if free <= 0 {
		return time.Time{} // every slot taken; a finishing lane pokes us
	}
	// A lane is reserved as the store reads it, so that the lanes it
	// returns fit the budgets together and a type out of budget does not
	// fill the read with lanes that cannot start.
	reserved := map[string]bool{}
	work, err := o.svc.Store().OutboxDue(ctx, jobs.OutboxQuery{At: now, MaxLanes: free, PerLane: perLane,
		Skip: func(key string) bool {
			if busy[key] || !o.acquire(key) {
				return true
			}
			reserved[key] = true
			return false
		}})
	for _, l := range work.Lanes {
		delete(reserved, l.Key)
	}
	for key := range reserved { // reserved but returned empty, or the read failed
		o.unreserve(key)
	}
	if err != nil {
		for _, l := range work.Lanes {
			o.unreserve(l.Key)
		}
		if ctx.Err() == nil {
			o.log.Error("read outbox", "err", err)
		}
		return now.Add(time.Second)
	}
	o.metrics.pending.Set(float64(work.Pending))
	for _, l := range work.Lanes {
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			o.runLane(ctx, lane{key: l.Key, items: l.Items})
		}()
	}
	return work.Next
}

func (o *Outbox) sleep(ctx context.Context, next time.Time, changed <-chan struct{}) bool {
	var wake <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(max(next.Sub(o.svc.Now()), 0))
		defer t.Stop()
		wake = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-o.poke:
	case <-changed:
		t := time.NewTimer(coalesce)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

func (o *Outbox) isBusy(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.slots.busy[key]
}

// busyLanes snapshots the lanes with a delivery running, and how many more
// deliveries may start.
func (o *Outbox) busyLanes() (map[string]bool, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]bool, len(o.slots.busy))
	for k := range o.slots.busy {
		out[k] = true
	}
	return out, o.slots.max - o.slots.running
}

// acquire takes a delivery slot for a lane, if the lane is idle and its
// budgets have room.
func (o *Outbox) acquire(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.slots.take(key)
}

// unreserve frees a slot taken for a lane that will not run.
func (o *Outbox) unreserve(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.slots.give(key)
}

// release frees the lane's slot and wakes the loop to plan again.
func (o *Outbox) release(key string) {
	o.unreserve(key)
	o.Poke()
}

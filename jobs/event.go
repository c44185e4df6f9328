package jobs

import (
	"sync"
	"sync/atomic"
)

// EventType names what changed in an Event; subscribers switch on it.
type EventType string

// Event types published after a change has committed.
const (
	EventJobCreated   EventType = "job_created"
	EventJobUpdated   EventType = "job_updated"
	EventGateOpened   EventType = "gate_opened"
	EventGateResolved EventType = "gate_resolved"
	EventGateVoted    EventType = "gate_voted" // an approval counted, quorum not reached yet
	EventLogAppended  EventType = "log_appended"
	EventLateAttempt  EventType = "late_attempt"
	// EventChecklistTicked: a checklist item of the open gate was ticked
	// or unticked.
	EventChecklistTicked EventType = "checklist_ticked"
	// EventReassigned: the open gate's assignees were replaced.
	EventReassigned EventType = "reassigned"
	// EventEscalated: a timer added an escalation tier's assignees.
	EventEscalated EventType = "escalated"
	// EventReminded: a timer sent a reminder; the gate itself is unchanged.
	EventReminded EventType = "reminded"
	// EventMessageRecorded: an announcement of a gate was recorded.
	EventMessageRecorded EventType = "message_recorded"
)

// Event tells subscribers that a job changed: what changed (Type), who
// acted (Actor) and through which door (Via: ViaSlack, ViaAPI, ViaCLI,
// ViaWeb, ViaWebhook, ViaTimeout). It is a hint: the store is the truth,
// and a subscriber that falls behind is told to resync and re-reads it.
type Event struct {
	Type    EventType
	Job     *Job
	Gate    *Gate
	Entries []LogEntry
	Actor   string
	Via     string
	// Notified is how many notifications the change enqueued in the
	// outbox: the outbox worker wakes only for changes that have some.
	Notified int
}

// Broker fans events out to subscribers and wakes waiters on a job without
// any polling. Publishing never blocks: an event a subscriber has no room
// for is counted (Dropped) and the subscriber is told to resync (its
// Resync channel), after which it re-reads what it shows from the store.
type Broker struct {
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	waiters map[string]*watch
	any     chan struct{}
	outbox  chan struct{}
	dropped atomic.Uint64
	onDrop  func(subscriber string)
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{subs: map[*Subscription]struct{}{}, waiters: map[string]*watch{}, any: make(chan struct{}),
		outbox: make(chan struct{})}
}

// Subscription is one subscriber's view of the broker. Read Events; when
// Resync fires, some events were dropped because the subscriber fell
// behind: re-read the state it keeps (the events still queued are hints
// like any other).
type Subscription struct {
	// Name says who subscribed, for logs and the drop counter.
	Name string
	// Events carries the events, in publishing order, with gaps only where
	// Resync fired.
	Events <-chan Event
	// Resync receives a signal after one or more events were dropped.
	// Signals coalesce: one pending signal covers every drop before it is
	// read.
	Resync <-chan struct{}

	events  chan Event
	resync  chan struct{}
	dropped atomic.Uint64
	broker  *Broker
}

// Subscribe returns a subscription with the given event buffer; Close it
// when done.
func (b *Broker) Subscribe(name string, buffer int) *Subscription {
	s := &Subscription{Name: name, events: make(chan Event, buffer), resync: make(chan struct{}, 1), broker: b}
	s.Events, s.Resync = s.events, s.resync
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close ends the subscription. Closing twice is harmless.
func (s *Subscription) Close() {
	s.broker.mu.Lock()
	delete(s.broker.subs, s)
	s.broker.mu.Unlock()
}

// Dropped is how many events this subscriber missed.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// OnDrop sets a function called (with the subscriber's name) for every
// event a subscriber had no room for, to count it (the server's
// cla_events_dropped_total). It must not block; set it before use.
func (b *Broker) OnDrop(fn func(subscriber string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onDrop = fn
}

// Dropped is how many events all subscribers missed since the broker
// started.
func (b *Broker) Dropped() uint64 { return b.dropped.Load() }

// deliver hands e to the subscriber or, when it has no room, counts the
// drop and signals a resync.
func (s *Subscription) deliver(e Event) {
	select {
	case s.events <- e:
		return
	default:
	}
	s.dropped.Add(1)
	s.broker.dropped.Add(1)
	if s.broker.onDrop != nil { // Publish holds the broker's lock
		s.broker.onDrop(s.Name)
	}
	select {
	case s.resync <- struct{}{}:
	default: // a resync is already pending; it covers this drop
	}
}

// watch is the shared wake-up channel of a job's watchers.
type watch struct {
	ch      chan struct{}
	holders int
}

// Watch returns a channel closed at the next event for the job, and a
// function to call when the caller stops waiting (deferred is fine). Take it
// before reading the state you compare against, then wait on it. Released
// watches are forgotten, so ids that never change cost nothing.
func (b *Broker) Watch(jobID string) (<-chan struct{}, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, ok := b.waiters[jobID]
	if !ok {
		w = &watch{ch: make(chan struct{})}
		b.waiters[jobID] = w
	}
	w.holders++
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if w.holders--; w.holders == 0 && b.waiters[jobID] == w {
				delete(b.waiters, jobID)
			}
		})
	}
}

// watching reports how many jobs have watchers (for tests).
func (b *Broker) watching() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

// WatchAll returns a channel closed at the next event of any job.
func (b *Broker) WatchAll() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.any
}

// WatchOutbox returns a channel closed at the next event that enqueued
// notifications. A log line or a vote that notifies nobody does not close
// it, so the outbox worker sleeps through chat traffic.
func (b *Broker) WatchOutbox() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outbox
}

// Publish delivers e to every subscriber (counting and signalling the
// ones with no room) and wakes watchers.
func (b *Broker) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w, ok := b.waiters[e.Job.ID]; ok {
		close(w.ch)
		delete(b.waiters, e.Job.ID)
	}
	close(b.any)
	b.any = make(chan struct{})
	if e.Notified > 0 {
		close(b.outbox)
		b.outbox = make(chan struct{})
	}
	for s := range b.subs {
		s.deliver(e)
	}
}

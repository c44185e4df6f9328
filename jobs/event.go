package jobs

import "sync"

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
)

// Event tells subscribers that a job changed. It is a hint: the store is the
// truth, and a subscriber that falls behind re-reads it.
type Event struct {
	Type    EventType
	Job     *Job
	Gate    *Gate
	Entries []LogEntry
	Actor   string
	Via     string
}

// Broker fans events out to subscribers and wakes waiters on a job without
// any polling. Publishing never blocks: a slow subscriber misses events.
type Broker struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	waiters map[string]*watch
	any     chan struct{}
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{subs: map[chan Event]struct{}{}, waiters: map[string]*watch{}, any: make(chan struct{})}
}

// Subscribe returns a channel of events with the given buffer, and a
// function that ends the subscription.
func (b *Broker) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
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

// Publish delivers e to every subscriber that has room and wakes watchers.
func (b *Broker) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w, ok := b.waiters[e.Job.ID]; ok {
		close(w.ch)
		delete(b.waiters, e.Job.ID)
	}
	close(b.any)
	b.any = make(chan struct{})
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

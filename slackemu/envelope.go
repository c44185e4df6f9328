package slackemu

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Envelope is one Socket Mode delivery attempt as the emulator sent (or
// queued) it. Redeliveries of an event are separate Envelopes with a new
// envelope id, a higher RetryAttempt and the same EventID.
type Envelope struct {
	ID           string          // envelope_id
	Type         string          // "events_api", "slash_commands", "interactive"
	EventID      string          // events_api: payload.event_id
	Kind         string          // event.type, interactive payload.type, or the slash command
	RetryAttempt int             // 0 for the first delivery
	Payload      json.RawMessage // the envelope's payload
	SentAt       time.Time       // zero while queued (no connection yet)
	Connection   int             // which connection got it (1-based, in order of connecting)
	Ack          *Ack            // the ack of this event or interaction, from any attempt; nil if none
	GaveUp       bool            // retries exhausted without an ack
}

// Ack is what the app sent back for an envelope.
type Ack struct {
	EnvelopeID string          // the envelope acked
	Payload    json.RawMessage // the ack's payload (nil or {} when none)
	At         time.Time       // when the ack arrived
	Latency    time.Duration   // from sending that envelope to its ack
}

// ErrNoAck is returned by helpers whose envelope was not acked in time.
var ErrNoAck = errors.New("slackemu: envelope not acked in time")

// delivery groups the attempts of one event or interaction.
type delivery struct {
	eventID  string
	kind     string
	attempts []*envelope
	ack      *Ack
	done     chan struct{}
	gaveUp   bool
}

// envelope is one attempt; guarded by e.mu.
type envelope struct {
	id      string
	typ     string
	payload json.RawMessage
	accepts bool
	attempt int
	d       *delivery
	sentAt  time.Time
	connID  int
	timer   *time.Timer
	acks    int
}

func (v *envelope) stopTimer() {
	if v.timer != nil {
		v.timer.Stop()
	}
}

// frame is the envelope as written on the WebSocket.
func (v *envelope) frame() []byte {
	o := obj{
		"envelope_id":              v.id,
		"payload":                  v.payload,
		"type":                     v.typ,
		"accepts_response_payload": v.accepts,
	}
	if v.typ == "events_api" {
		o["retry_attempt"] = v.attempt
		o["retry_reason"] = ""
		if v.attempt > 0 {
			o["retry_reason"] = "timeout"
		}
	}
	b, _ := json.Marshal(o)
	return b
}

// snapshot copies an attempt for callers.
func (v *envelope) snapshot() Envelope {
	out := Envelope{ID: v.id, Type: v.typ, EventID: v.d.eventID, Kind: v.d.kind,
		RetryAttempt: v.attempt, Payload: v.payload, SentAt: v.sentAt,
		Connection: v.connID, GaveUp: v.d.gaveUp}
	if v.d.ack != nil {
		a := *v.d.ack
		out.Ack = &a
	}
	return out
}

// enqueueLocked queues a new delivery and wakes the dispatcher.
func (e *Emulator) enqueueLocked(typ, eventID, kind string, payload any, accepts bool) *delivery {
	raw, _ := json.Marshal(payload)
	d := &delivery{eventID: eventID, kind: kind, done: make(chan struct{})}
	e.addAttemptLocked(d, typ, raw, accepts, 0)
	return d
}

// addAttemptLocked queues one attempt of d.
func (e *Emulator) addAttemptLocked(d *delivery, typ string, raw json.RawMessage, accepts bool, attempt int) {
	v := &envelope{id: uuid(), typ: typ, payload: raw, accepts: accepts, attempt: attempt, d: d}
	d.attempts = append(d.attempts, v)
	e.envs[v.id] = v
	e.envOrder = append(e.envOrder, v.id)
	e.queue = append(e.queue, v)
	e.notifyLocked()
	e.wake()
}

// wake nudges the dispatcher without blocking.
func (e *Emulator) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// dispatchLoop writes queued envelopes to live connections, round robin,
// each to exactly one connection.
func (e *Emulator) dispatchLoop() {
	for {
		select {
		case <-e.stop:
			return
		case <-e.kick:
		}
		for e.dispatchOne() {
		}
	}
}

// dispatchOne sends the head of the queue; false when nothing could be sent.
func (e *Emulator) dispatchOne() bool {
	e.mu.Lock()
	if e.closed || len(e.queue) == 0 {
		e.mu.Unlock()
		return false
	}
	c := e.pickConnLocked()
	if c == nil {
		e.mu.Unlock()
		return false
	}
	v := e.queue[0]
	e.queue = e.queue[1:]
	if v.d.ack != nil { // acked through an earlier attempt meanwhile
		e.mu.Unlock()
		return true
	}
	v.sentAt, v.connID = time.Now(), c.id
	e.armRetryLocked(v)
	e.notifyLocked()
	b := v.frame()
	e.mu.Unlock()
	if err := c.write(b); err != nil {
		e.mu.Lock()
		c.dead = true
		v.stopTimer()
		v.sentAt, v.connID = time.Time{}, 0
		e.queue = append([]*envelope{v}, e.queue...)
		e.mu.Unlock()
		c.kill()
	}
	return true
}

// pickConnLocked chooses the next live connection in id order, round robin.
func (e *Emulator) pickConnLocked() *conn {
	var best, first *conn
	for _, c := range e.conns {
		if !c.ready || c.draining || c.dead {
			continue
		}
		if first == nil || c.id < first.id {
			first = c
		}
		if c.id > e.connRR && (best == nil || c.id < best.id) {
			best = c
		}
	}
	if best == nil {
		best = first
	}
	if best != nil {
		e.connRR = best.id
	}
	return best
}

// armRetryLocked schedules the redelivery of an unacked event.
func (e *Emulator) armRetryLocked(v *envelope) {
	if v.typ != "events_api" {
		return
	}
	v.timer = time.AfterFunc(e.cfg.RedeliveryDelay, func() { e.retry(v) })
}

// retry redelivers v's event if it is still unacked, or gives up.
func (e *Emulator) retry(v *envelope) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := v.d
	if e.closed || d.ack != nil || d.attempts[len(d.attempts)-1] != v {
		return
	}
	if v.attempt >= e.cfg.MaxRetries {
		d.gaveUp = true
		close(d.done)
		e.notifyLocked()
		return
	}
	e.addAttemptLocked(d, v.typ, v.payload, v.accepts, v.attempt+1)
}

// handleAck records an ack frame from the app.
func (e *Emulator) handleAck(c *conn, data []byte) {
	var msg struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.EnvelopeID == "" {
		e.log.Debug("ignored frame", "conn", c.id, "size", len(data))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.envs[msg.EnvelopeID]
	if !ok {
		e.log.Debug("ack for unknown envelope", "envelope", msg.EnvelopeID)
		return
	}
	v.acks++
	d := v.d
	if d.ack != nil || d.gaveUp {
		e.notifyLocked()
		return
	}
	now := time.Now()
	d.ack = &Ack{EnvelopeID: v.id, Payload: msg.Payload, At: now, Latency: now.Sub(v.sentAt)}
	for _, a := range d.attempts {
		a.stopTimer()
	}
	close(d.done)
	e.notifyLocked()
}

// awaitAck blocks until d is acked or given up, or ctx ends; an
// interaction still unacked then is given up.
func (e *Emulator) awaitAck(ctx context.Context, d *delivery) (Ack, error) {
	select {
	case <-d.done:
	case <-ctx.Done():
	case <-e.stop:
		return Ack{}, ErrClosed
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if d.ack == nil {
		// Slack shows the user an error and forgets the interaction.
		if !d.gaveUp {
			d.gaveUp = true
			close(d.done)
			e.notifyLocked()
		}
		return Ack{}, ErrNoAck
	}
	return *d.ack, nil
}

// Envelopes returns every delivery attempt, oldest first.
func (e *Emulator) Envelopes() []Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Envelope, 0, len(e.envOrder))
	for _, id := range e.envOrder {
		out = append(out, e.envs[id].snapshot())
	}
	return out
}

// Pending returns the latest attempt of every event or interaction that is
// neither acked nor given up.
func (e *Emulator) Pending() []Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pendingLocked()
}

func (e *Emulator) pendingLocked() []Envelope {
	var out []Envelope
	for _, id := range e.envOrder {
		v := e.envs[id]
		d := v.d
		if d.ack == nil && !d.gaveUp && d.attempts[len(d.attempts)-1] == v {
			out = append(out, v.snapshot())
		}
	}
	return out
}

// WaitIdle blocks until nothing is pending: every envelope sent so far was
// acked (or given up on).
func (e *Emulator) WaitIdle(ctx context.Context) error {
	return e.waitFor(ctx, func() bool { return len(e.pendingLocked()) == 0 })
}

// WaitAck blocks until the event or interaction carried by id (an envelope
// id or an event id) is acked, and returns the ack.
func (e *Emulator) WaitAck(ctx context.Context, id string) (Ack, error) {
	var ack Ack
	err := e.waitFor(ctx, func() bool {
		for _, v := range e.envs {
			if (v.id == id || v.d.eventID == id) && v.d.ack != nil {
				ack = *v.d.ack
				return true
			}
		}
		return false
	})
	return ack, err
}

// DuplicateAcks counts acks beyond the first for the same envelope id,
// which a well-behaved app never sends. (Acking each redelivery of an event
// once is fine and not counted.)
func (e *Emulator) DuplicateAcks() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, v := range e.envs {
		n += max(v.acks-1, 0)
	}
	return n
}

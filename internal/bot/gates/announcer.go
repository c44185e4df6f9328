package gates

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sync"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Announcer is the one owner of every gate announcement in Slack: it
// rewrites them after every change, whatever the door (button, slash
// command, mention, API, CLI, web, webhook, timer) and whatever the change
// (resolution, vote, late attempt, checklist tick, reassignment,
// escalation). Handlers answer the person who acted; they never rewrite a
// shared message.
//
// It learns of changes from the broker (Run) and from the outbox's
// durable notifications (Sync, through the Notifier), and renders what
// the store holds when it writes, never what an event carried. A message
// whose rendering did not change since it was last written is not written
// again, so one change costs at most one chat.update per announcement
// whichever of the two paths gets there first. Rewrites of one gate that
// arrive while one is in flight (or waiting for Slack's rate budget) are
// coalesced: only the latest state is sent.
type Announcer struct {
	*core
	budget *ratelimit.Budget
	// timeout bounds one asynchronous rewrite.
	timeout time.Duration

	mu      sync.Mutex
	base    context.Context  // Run's context: rewrites outlive the handler that asked
	dirty   map[gateKey]bool // gates to render again when their worker is done
	running map[gateKey]bool // gates with a worker
	sent    map[jobs.MessageRef]uint64
	known   map[gateKey]bool // gates this process announced or rewrote, for a resync
	workers sync.WaitGroup
}

// gateKey names one gate of one job.
type gateKey struct{ job, gate string }

// maxRemembered bounds the announcer's memory of what it wrote; past it
// the memory is cleared, costing at most one redundant rewrite each.
const maxRemembered = 10000

// rewriteTimeout bounds one rewrite of a gate's announcements.
const rewriteTimeout = 30 * time.Second

// callTimeout bounds one chat.update once its rate slot is granted.
const callTimeout = 15 * time.Second

// NewAnnouncer builds the announcer. Share one between the Notifier and
// the Handler (Config.Announcer) and run it (Run) once.
func NewAnnouncer(cfg Config) *Announcer {
	c := newCoreOnly(cfg)
	return &Announcer{core: c, budget: cfg.Budget, timeout: rewriteTimeout, base: context.Background(), dirty: map[gateKey]bool{},
		running: map[gateKey]bool{}, sent: map[jobs.MessageRef]uint64{}, known: map[gateKey]bool{}}
}

// rewrites is which events change what an announcement shows. An opened
// gate is announced through the outbox; a reminder only threads a reply.
var rewrites = map[jobs.EventType]bool{
	jobs.EventGateResolved: true, jobs.EventGateVoted: true, jobs.EventLateAttempt: true,
	jobs.EventChecklistTicked: true, jobs.EventReassigned: true, jobs.EventEscalated: true,
}

// Run follows the service's events until ctx ends and rewrites the
// announcements of every gate a change touched. When it fell behind and
// events were dropped, it rewrites every gate it knows (unchanged
// messages cost no call).
func (a *Announcer) Run(ctx context.Context) error {
	a.mu.Lock()
	a.base = ctx
	a.mu.Unlock()
	sub := a.svc.Broker().Subscribe("slack-announcer", 1024)
	defer sub.Close()
	defer a.workers.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-sub.Events:
			if e.Job != nil && e.Gate != nil && rewrites[e.Type] {
				a.log.Debug("announcement change", "job", e.Job.ID, "gate", e.Gate.ID, "change", e.Type,
					"actor", e.Actor, "via", e.Via)
				a.Rewrite(e.Job.ID, e.Gate.ID)
			}
		case <-sub.Resync:
			a.log.Warn("announcer fell behind; rewriting every known announcement", "dropped", sub.Dropped())
			a.resync(ctx)
		}
	}
}

// resync schedules a rewrite of every gate the announcer knows.
func (a *Announcer) resync(ctx context.Context) {
	a.mu.Lock()
	keys := make([]gateKey, 0, len(a.known))
	for k := range a.known {
		keys = append(keys, k)
	}
	a.mu.Unlock()
	for _, k := range keys {
		a.Rewrite(k.job, k.gate)
	}
}

// Rewrite schedules a rewrite of a gate's announcements and returns at
// once. A rewrite requested while one is running for the same gate is
// folded into one more pass that renders the latest state.
func (a *Announcer) Rewrite(jobID, gateID string) {
	k := gateKey{jobID, gateID}
	a.mu.Lock()
	ctx := a.base
	if a.running[k] {
		a.dirty[k] = true
		a.mu.Unlock()
		return
	}
	a.running[k] = true
	a.mu.Unlock()
	a.workers.Go(func() { a.work(ctx, k) })
}

// Restore rewrites a gate's announcements even if their rendering did not
// change: Slack's client already shows what a person clicked (a checklist
// tick that was refused), which must be put right.
func (a *Announcer) Restore(ctx context.Context, jobID, gateID string) {
	a.forget(ctx, jobID, gateID)
	a.Rewrite(jobID, gateID)
}

// work rewrites one gate until no more changes are pending for it.
func (a *Announcer) work(ctx context.Context, k gateKey) {
	for {
		rctx, cancel := context.WithTimeout(ctx, a.timeout)
		err := ratelimit.Retry(rctx, func(ctx context.Context) error { return a.Sync(ctx, k.job, k.gate) })
		cancel()
		if err != nil && ctx.Err() == nil {
			a.log.Warn("rewrite announcement", "job", k.job, "gate", k.gate, "err", err)
		}
		a.mu.Lock()
		if a.dirty[k] && ctx.Err() == nil {
			delete(a.dirty, k)
			a.mu.Unlock()
			continue
		}
		delete(a.dirty, k)
		delete(a.running, k)
		a.mu.Unlock()
		return
	}
}

// Sync rewrites a gate's announcements now, with what the store holds,
// skipping messages whose rendering is unchanged. Rewrites of one job are
// serialized, so a slower rewrite of an older state can never land last.
// Messages that are gone (deleted, channel archived) are skipped; a rate
// limit or an outage is returned for a retry (the outbox retries it).
func (a *Announcer) Sync(ctx context.Context, jobID, gateID string) error {
	mu := &rewriteLocks[stripe(jobID)]
	mu.Lock()
	defer mu.Unlock()
	if r, err := a.render(ctx, jobID, gateID); err != nil || len(r.stale) == 0 {
		return err // nothing to write: no call, no rate budget spent
	}
	// Wait for the rate budget first, then render again: what is sent is
	// the latest state, whatever changed during the wait.
	if err := a.budget.Wait(ctx, "chat.update", ""); err != nil {
		return err
	}
	r, err := a.render(ctx, jobID, gateID)
	if err != nil {
		return err
	}
	for range len(r.stale) - 1 { // a slot for each further message, before any call
		if err := a.budget.Wait(ctx, "chat.update", ""); err != nil {
			return err
		}
	}
	// From here the calls run to Slack's answer even if ctx ends (the
	// rewrite's deadline, an outbox delivery's): only shutdown and
	// callTimeout cut them short, and none waits for the budget (but a
	// plain-text retry of an announcement Slack refused as blocks). A call
	// cut off on its way may already have changed the message in Slack
	// without the announcer recording it, and the other path would then
	// send it again (SlackResolve saw 10,002 updates for 10,000 gates).
	a.mu.Lock()
	base := a.base
	a.mu.Unlock()
	calls, cancel := context.WithTimeout(base, callTimeout)
	defer cancel()
	paced := ratelimit.Paced(calls) // the budget was waited for above
	for _, ref := range r.stale {
		_, _, _, err := a.api.UpdateMessageContext(paced, ref.Channel, ref.TS,
			slack.MsgOptionText(r.text, false), slack.MsgOptionBlocks(r.blocks...))
		if blockKitRefused(err) { // the announcement fell back to plain text: so does its rewrite
			_, _, _, err = a.api.UpdateMessageContext(calls, ref.Channel, ref.TS, slack.MsgOptionText(r.plain, false))
		}
		switch {
		case err == nil:
			a.record(ref, r.sum)
		case gone(err):
			a.log.Info("announcement gone; not updated", "job", jobID, "gate", gateID, "channel", ref.Channel, "err", err)
			a.record(ref, r.sum)
		default:
			return slackError("chat.update", err)
		}
	}
	return nil
}

// rendering is a gate's announcement as the store has it now, and which
// of its messages do not show it yet.
type rendering struct {
	text   string
	plain  string // the whole announcement as text, when Slack refuses its blocks
	blocks []slack.Block
	sum    uint64
	stale  []jobs.MessageRef
}

// render reads the gate and renders its announcement.
func (a *Announcer) render(ctx context.Context, jobID, gateID string) (rendering, error) {
	job, err := a.svc.GetJob(ctx, jobID)
	if err != nil {
		return rendering{}, err
	}
	g := job.Gate(gateID)
	if g == nil || len(g.Messages) == 0 {
		return rendering{}, nil
	}
	a.remember(gateKey{jobID, gateID})
	v := a.view(ctx, job, g)
	r := rendering{text: blocks.Text(v), blocks: blocks.Message(v), plain: blocks.PlainText(v)}
	r.sum = digest(r.text, r.blocks)
	for _, ref := range g.Messages {
		if !a.wrote(ref, r.sum) {
			r.stale = append(r.stale, ref)
		}
	}
	return r, nil
}

// wrote reports whether ref already shows the rendering sum.
func (a *Announcer) wrote(ref jobs.MessageRef, sum uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.sent[ref]
	return ok && last == sum
}

// record remembers what ref shows.
func (a *Announcer) record(ref jobs.MessageRef, sum uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sent) >= maxRemembered {
		clear(a.sent)
	}
	a.sent[ref] = sum
}

// remember notes a gate with announcements, for a resync.
func (a *Announcer) remember(k gateKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.known) >= maxRemembered {
		clear(a.known)
	}
	a.known[k] = true
}

// Posted tells the announcer what a freshly posted announcement shows, so
// the first rewrite that renders the same is skipped.
func (a *Announcer) Posted(ref jobs.MessageRef, text string, bl []slack.Block) {
	a.record(ref, digest(text, bl))
}

// forget drops what the announcer knows the gate's messages show.
func (a *Announcer) forget(ctx context.Context, jobID, gateID string) {
	job, err := a.svc.GetJob(ctx, jobID)
	if err != nil {
		return
	}
	if g := job.Gate(gateID); g != nil {
		a.mu.Lock()
		for _, ref := range g.Messages {
			delete(a.sent, ref)
		}
		a.mu.Unlock()
	}
}

// digest is a hash of a rendering.
func digest(text string, bl []slack.Block) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	_ = json.NewEncoder(h).Encode(bl)
	return h.Sum64()
}

// Wait waits until every scheduled rewrite has finished (for tests and
// shutdown).
func (a *Announcer) Wait() { a.workers.Wait() }

package bot

import (
	"context"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// maxMirrorBatch caps how many messages one worker appends at once.
const maxMirrorBatch = 256

// mirror copies messages of bound channels into job logs. Each channel
// maps to one worker, so a channel's messages are appended in the order
// Slack delivered them; a worker appends everything waiting in one call,
// and the store's group commit merges the workers' appends. A message is
// acked only after its append is durable; the entry's Key makes a
// redelivery a no-op. A redelivery of a message still waiting for its
// append takes no place in the queue: it is folded into the waiting copy
// and acked with it, so Slack's retries of a slow append do not pile up
// behind it (and in front of everything else).
type mirror struct {
	b      *Bot
	shards []chan mirrorItem
	bound  sync.Map // channel id -> job id; a binding never changes
	thread sync.Map // channel id + ts of a gate announcement -> job id; never changes either
	wg     sync.WaitGroup

	queuedMu sync.Mutex
	queued   map[string]*foldedCopies // event id -> the copy waiting in a shard or being appended
}

// mirrorItem is one message waiting for its append and its ack.
type mirrorItem struct {
	in     *Incoming
	ack    func(any)
	copies *foldedCopies // nil for a message without an event id
}

// foldedCopies are the acks of redeliveries folded into a waiting item;
// guarded by mirror.queuedMu.
type foldedCopies struct{ acks []func(any) }

// done acks the message and the copies folded into it, and records how
// long the ack took.
func (m *mirror) done(it mirrorItem) {
	it.ack(nil)
	for _, ack := range m.release(it) {
		ack(nil)
	}
	if !it.in.received.IsZero() {
		m.b.cfg.Metrics.ack.WithLabelValues(string(KindMessage)).Observe(time.Since(it.in.received).Seconds())
	}
}

// release ends its time as the waiting copy of its event, so that a later
// redelivery is queued again, and returns the acks of the copies folded
// into it. It is harmless to call twice.
func (m *mirror) release(it mirrorItem) []func(any) {
	if it.copies == nil {
		return nil
	}
	m.queuedMu.Lock()
	defer m.queuedMu.Unlock()
	if m.queued[it.in.EventID] == it.copies {
		delete(m.queued, it.in.EventID)
	}
	acks := it.copies.acks
	it.copies.acks = nil
	return acks
}

func newMirror(b *Bot, shards int) *mirror {
	m := &mirror{b: b, shards: make([]chan mirrorItem, shards), queued: map[string]*foldedCopies{}}
	for i := range m.shards {
		m.shards[i] = make(chan mirrorItem, maxMirrorBatch)
	}
	return m
}

// start runs the workers until ctx ends.
func (m *mirror) start(ctx context.Context) {
	for _, ch := range m.shards {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.work(ctx, ch)
		}()
	}
}

// wait blocks until every worker has stopped.
func (m *mirror) wait() { m.wg.Wait() }

// enqueue hands a message to its channel's worker, or folds a
// redelivery into the copy of it that is still waiting.
func (m *mirror) enqueue(ctx context.Context, in *Incoming, ack func(any)) {
	it := mirrorItem{in: in, ack: ack}
	if in.EventID != "" {
		m.queuedMu.Lock()
		if waiting := m.queued[in.EventID]; waiting != nil {
			waiting.acks = append(waiting.acks, ack)
			m.queuedMu.Unlock()
			return
		}
		it.copies = &foldedCopies{}
		m.queued[in.EventID] = it.copies
		m.queuedMu.Unlock()
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(in.Channel)) // a hash.Hash never returns an error
	select {
	case m.shards[h.Sum32()%uint32(len(m.shards))] <- it:
	case <-ctx.Done():
		m.release(it) // not queued: Slack redelivers it, and its copies
	}
}

// work appends batches from one shard until ctx ends.
func (m *mirror) work(ctx context.Context, ch chan mirrorItem) {
	batch := make([]mirrorItem, 0, maxMirrorBatch)
	for {
		select {
		case it := <-ch:
			batch = append(batch[:0], it)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < maxMirrorBatch {
			select {
			case it := <-ch:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		m.flush(ctx, batch)
	}
}

// jobBatch is the part of a batch bound for one job, in delivery order.
type jobBatch struct {
	job     string
	entries []jobs.LogEntry
	items   []mirrorItem
}

// flush appends a batch, one call per job, then acks what is durable.
// Whatever it did not ack (a failed lookup or append) is released
// unacked, with the copies folded into it: Slack redelivers them.
func (m *mirror) flush(ctx context.Context, batch []mirrorItem) {
	defer func() {
		for _, it := range batch {
			m.release(it)
		}
	}()
	var groups []*jobBatch
	byJob := map[string]*jobBatch{}
	for _, it := range batch {
		job, entry, err := m.prepare(ctx, it.in)
		if err != nil {
			m.b.log.Warn("mirror lookup failed; slack will redeliver", "channel", it.in.Channel, "err", err)
			continue
		}
		if job == "" {
			m.done(it)
			continue
		}
		g := byJob[job]
		if g == nil {
			g = &jobBatch{job: job}
			byJob[job] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, entry)
		g.items = append(g.items, it)
	}
	for _, g := range groups {
		m.append(ctx, g)
	}
}

// append writes one job's entries and acks them once durable. A job that
// vanished is acked anyway: retrying cannot help.
func (m *mirror) append(ctx context.Context, g *jobBatch) {
	added, err := m.b.svc.AppendLog(ctx, g.job, g.entries)
	if err != nil && jobs.ErrorCode(err) == jobs.EINTERNAL {
		m.b.log.Error("mirror append failed; slack will redeliver", "job", g.job, "n", len(g.entries), "err", err)
		return
	}
	if err != nil {
		m.b.log.Warn("mirror append refused", "job", g.job, "err", err)
	}
	m.b.log.Debug("mirrored", "job", g.job, "n", len(g.entries), "new", len(added))
	m.b.cfg.Metrics.mirrored.Add(float64(len(added)))
	for _, it := range g.items {
		m.done(it)
	}
	m.b.keepFiles(ctx, g.job, g.items, added)
}

// prepare finds the job a message belongs to and builds its log entry;
// job is "" for a message that is not mirrored.
func (m *mirror) prepare(ctx context.Context, in *Incoming) (string, jobs.LogEntry, error) {
	if !mirrored(in) || m.b.ownMessage(in) {
		return "", jobs.LogEntry{}, nil
	}
	job, err := m.threadJob(ctx, in)
	if err == nil && job == "" {
		job, err = m.jobFor(ctx, in.Channel)
	}
	if err != nil || job == "" {
		return "", jobs.LogEntry{}, err
	}
	actor := m.b.actorName(ctx, in.User, in.BotID)
	if in.User != "" && actor != jobs.System.Name && m.b.people.Silenced(actor) {
		m.b.log.Debug("message of an unknown user not mirrored (slack.unknownUsers: deny)", "user", in.User, "job", job)
		return "", jobs.LogEntry{}, nil
	}
	entry := mirrorEntry(in, actor)
	if entry.Text = m.b.readable(ctx, in.Text); entry.Text != in.Text {
		entry.Fields["raw"] = in.Text // Slack's own text, when it differs from the readable one
	}
	return job, entry, nil
}

// threadJob returns the job whose gate announcement a thread reply answers,
// or "": a reply follows its announcement, whatever job the channel is
// bound to.
func (m *mirror) threadJob(ctx context.Context, in *Incoming) (string, error) {
	if in.ThreadTS == "" || in.ThreadTS == in.TS {
		return "", nil
	}
	key := in.Channel + "/" + in.ThreadTS
	if v, ok := m.thread.Load(key); ok {
		return v.(string), nil
	}
	id, err := m.b.svc.Store().JobByMessage(ctx, in.Channel, in.ThreadTS)
	if jobs.ErrorCode(err) == jobs.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	m.thread.Store(key, id)
	return id, nil
}

// jobFor returns the job bound to a channel, or "".
func (m *mirror) jobFor(ctx context.Context, channel string) (string, error) {
	if v, ok := m.bound.Load(channel); ok {
		return v.(string), nil
	}
	id, err := m.b.svc.Store().JobByChannel(ctx, channel)
	if jobs.ErrorCode(err) == jobs.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	m.bound.Store(channel, id)
	return id, nil
}

// mirroredSubtypes are the message subtypes that become log entries: what
// people write, edit, delete and share. Joins, topics, pins and the like
// are not conversation.
var mirroredSubtypes = map[string]bool{
	"": true, "thread_broadcast": true, "file_share": true, "me_message": true, "bot_message": true,
	"message_changed": true, "message_deleted": true,
}

// mirrored reports whether a message event becomes a log entry. An edit
// without edited.ts is Slack re-rendering (unfurls), not a person.
func mirrored(in *Incoming) bool {
	if in.Channel == "" || in.TS == "" || !mirroredSubtypes[in.Subtype] {
		return false
	}
	return in.Subtype != "message_changed" || in.EditedTS != ""
}

// mirrorEntry is the job log entry for one message. Its Key is unique per
// message, edit and delete, so the store drops redeliveries atomically.
func mirrorEntry(in *Incoming, actor string) jobs.LogEntry {
	f := map[string]string{"user": in.User, "ts": in.TS, "channel": in.Channel}
	key := "slack:" + in.Channel + ":" + in.TS
	switch in.Subtype {
	case "message_changed":
		key += ":edit:" + in.EditedTS
		f["edited_ts"] = in.EditedTS
	case "message_deleted":
		key += ":delete"
	}
	put := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	if in.ThreadTS != in.TS { // a thread's parent carries its own ts; only replies name a thread
		put("thread_ts", in.ThreadTS)
	}
	put("subtype", in.Subtype)
	put("bot_id", in.BotID)
	for i, file := range in.Files {
		p := "file." + strconv.Itoa(i+1) + "."
		put(p+"name", file.Name)
		put(p+"size", strconv.Itoa(file.Size))
		put(p+"permalink", file.Permalink)
	}
	if len(in.Files) > 0 {
		f["files"] = strconv.Itoa(len(in.Files))
	}
	return jobs.LogEntry{Kind: jobs.LogMessage, Actor: actor, Via: jobs.ViaSlack, Text: in.Text, Fields: f, Key: key}
}

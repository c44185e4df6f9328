package store

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// committer is the store's group commit. A change that finds no commit
// running is committed at once; changes that arrive while one runs wait
// for it and are then committed together in the next transaction, up to
// maxGroup of them. So a lone change never waits for a timer, and under
// load every fsync carries all the work that queued during the previous
// one. (bbolt's own Batch waits MaxBatchDelay before it commits, and a
// batch whose timer fires while another commits waits for the lock as a
// second small batch, each paying its own fsync.)
//
// Changes announce themselves while they are being prepared (read,
// decoded, changed and encoded outside the transaction, see UpdateJob).
// Before a commit starts, the committer waits for those, at most
// maxGather: work already on its way joins this fsync instead of paying
// the next one, as PostgreSQL's commit_delay does when other
// transactions are active. With nothing in preparation nothing waits.
type committer struct {
	db *bolt.DB

	mu        sync.Mutex
	queue     []*pendingChange
	running   bool
	preparing int           // changes being prepared, not queued yet
	arrived   chan struct{} // signalled when preparing drops to zero
	maxGather time.Duration // maxGather, or longer in tests

	commits, changes atomic.Uint64 // transactions committed, changes they carried
	busy             atomic.Int64  // nanoseconds spent in transactions, commit included
}

// CommitStats is what the group commit did since the store was opened:
// how well changes share their fsync (Changes ÷ Commits), the pages a
// change costs (PagesWritten ÷ Changes), and how busy the one writer is.
type CommitStats struct {
	Commits      uint64        // write transactions committed
	Changes      uint64        // changes they carried
	PagesWritten uint64        // page writes of all transactions: one per page, or per run of overflow pages (bbolt's count)
	Busy         time.Duration // time the writer spent in transactions, their commit included
	Write        time.Duration // of which writing pages and syncing them (bbolt's count)
}

// CommitStats returns the group commit's counters so far.
func (db *DB) CommitStats() CommitStats {
	tx := db.bolt.Stats().TxStats
	c := db.commit
	return CommitStats{Commits: c.commits.Load(), Changes: c.changes.Load(), PagesWritten: uint64(tx.GetWrite()),
		Busy: time.Duration(c.busy.Load()), Write: tx.GetWriteTime()}
}

// pendingChange is one change waiting for its commit.
type pendingChange struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// maxGroup bounds the changes of one transaction, so one commit's memory
// and time stay bounded under a flood.
const maxGroup = 1000

// maxGather bounds how long a commit waits for changes in preparation.
// It is well under one commit's own time (an fsync and the page writes,
// several milliseconds on a loaded disk), so it costs latency only when
// it saves a whole commit.
const maxGather = time.Millisecond

// newCommitter returns the group commit of db.
func newCommitter(db *bolt.DB) *committer {
	return &committer{db: db, arrived: make(chan struct{}, 1), maxGather: maxGather}
}

// preparation is a change being prepared outside the transaction.
type preparation struct {
	c     *committer
	ended atomic.Bool
}

// prepare announces a change that will be queued (do) or abandoned soon.
func (c *committer) prepare() *preparation {
	c.mu.Lock()
	c.preparing++
	c.mu.Unlock()
	return &preparation{c: c}
}

// abandon ends a preparation that will not be queued. It is harmless
// after the change was queued.
func (p *preparation) abandon() {
	if p.ended.CompareAndSwap(false, true) {
		p.c.mu.Lock()
		p.c.endPreparation()
		p.c.mu.Unlock()
	}
}

// endPreparation counts one preparation less; c.mu is held.
func (c *committer) endPreparation() {
	if c.preparing--; c.preparing == 0 {
		select {
		case c.arrived <- struct{}{}:
		default:
		}
	}
}

// gather waits until no change is in preparation, the queue is full, or
// c.maxGather passed.
func (c *committer) gather() {
	var timer *time.Timer
	for {
		c.mu.Lock()
		waiting := c.preparing > 0 && len(c.queue) < maxGroup
		c.mu.Unlock()
		if !waiting {
			break
		}
		if timer == nil {
			timer = time.NewTimer(c.maxGather)
			defer timer.Stop()
		}
		select {
		case <-c.arrived:
		case <-timer.C:
			return
		}
	}
}

// do runs fn in a shared write transaction and returns when that
// transaction has committed (or failed). If fn fails, the others of its
// group are committed without it, and do returns fn's error. fn may be
// called more than once (on a retry of its group), like bbolt's Batch.
// prep, if not nil, is the preparation that made fn; it ends as fn is
// queued, in the same step.
func (c *committer) do(prep *preparation, fn func(*bolt.Tx) error) error {
	p := &pendingChange{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if prep != nil && prep.ended.CompareAndSwap(false, true) {
		c.endPreparation()
	}
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	return <-p.done
}

// loop commits the queue group by group until it is empty.
func (c *committer) loop() {
	for {
		c.gather()
		c.mu.Lock()
		n := min(len(c.queue), maxGroup)
		if n == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		group := c.queue[:n:n]
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil // let the backing array go
		}
		c.mu.Unlock()
		c.commit(group)
	}
}

// commit runs a group in one transaction. A change that fails is taken
// out and answered with its error, and the rest are run again.
func (c *committer) commit(group []*pendingChange) {
	start := time.Now()
	for len(group) > 0 {
		failed := -1
		var failure error
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, p := range group {
				if err := safely(p.fn, tx); err != nil {
					failed, failure = i, err
					return err
				}
			}
			writeSmallFreelist(tx)
			return nil
		})
		if failed >= 0 {
			group[failed].done <- failure
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		c.busy.Add(int64(time.Since(start)))
		if err == nil {
			c.commits.Add(1)
			c.changes.Add(uint64(len(group)))
		}
		for _, p := range group {
			p.done <- err // nil, or the commit's own failure
		}
		// Let the changes just answered run before the next group starts.
		// Woken here, they wait in this goroutine's run queue, and the
		// next commit would otherwise keep this processor first (its
		// page writes and fsync hand it over late): they came back for
		// the commit after next, groups stayed small and every fsync
		// carried fewer changes (docs/performance-history.md, session 6).
		runtime.Gosched()
		return
	}
}

// safely runs fn, turning a panic into an error so that one bad change
// cannot leave its group waiting forever.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store change panicked: %v", r)
		}
	}()
	return fn(tx)
}

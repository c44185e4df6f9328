package store

import (
	"fmt"
	"sync"

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
type committer struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   []*pendingChange
	running bool
}

// pendingChange is one change waiting for its commit.
type pendingChange struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// maxGroup bounds the changes of one transaction, so one commit's memory
// and time stay bounded under a flood.
const maxGroup = 1000

// do runs fn in a shared write transaction and returns when that
// transaction has committed (or failed). If fn fails, the others of its
// group are committed without it, and do returns fn's error. fn may be
// called more than once (on a retry of its group), like bbolt's Batch.
func (c *committer) do(fn func(*bolt.Tx) error) error {
	p := &pendingChange{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
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
			return nil
		})
		if failed >= 0 {
			group[failed].done <- failure
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		for _, p := range group {
			p.done <- err // nil, or the commit's own failure
		}
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

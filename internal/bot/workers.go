package bot

import (
	"context"
	"fmt"
	"time"
)

// defaultShutdownGrace is how long Run waits, once its context ends, for
// requests already acked to be handled.
const defaultShutdownGrace = 10 * time.Second

// task is one handler call waiting for a worker.
type task func(context.Context)

// spawn queues fn for a handler worker. The queue is deep, so the socket
// loop (which has already acked) only waits when handlers fall far behind.
// Once the bot has stopped taking handlers (its shutdown grace is over)
// fn is dropped and counted.
func (b *Bot) spawn(fn task) {
	b.taskMu.RLock()
	defer b.taskMu.RUnlock()
	if b.tasksClosed {
		b.dropTasks(1)
		return
	}
	b.pending.Add(1)
	select {
	case b.tasks <- fn:
	case <-b.handlers.Done():
		b.pending.Done()
		b.dropTasks(1)
	}
}

// work runs queued handlers until the handlers' context ends; Concurrency
// workers bound how many run at once. It outlives Run's context by up to
// the shutdown grace, so an acked request is still handled.
func (b *Bot) work() {
	for {
		select {
		case fn := <-b.tasks:
			b.runTask(fn)
		case <-b.handlers.Done():
			return
		}
	}
}

// runTask runs one handler with a deadline, surviving its panic.
func (b *Bot) runTask(fn task) {
	defer b.pending.Done()
	defer func() {
		if p := recover(); p != nil {
			b.cfg.Metrics.handlerErrors.Inc()
			b.log.Error("handler panicked", "panic", fmt.Sprint(p))
		}
	}()
	hctx, cancel := context.WithTimeout(b.handlers, 2*time.Minute)
	defer cancel()
	fn(hctx)
}

// finishHandlers runs when Run's context has ended and no envelope is read
// any more: it waits for the queued and running handlers (Slack will not
// redeliver a request it saw acked), at most ShutdownGrace. Then it
// cancels the handlers' context, so those still running stop, and drops
// (and logs) what is still queued. The handler workers have stopped when
// it returns.
func (b *Bot) finishHandlers(stopWorkers func()) {
	idle := make(chan struct{})
	go func() { b.pending.Wait(); close(idle) }()
	t := time.NewTimer(b.cfg.ShutdownGrace)
	defer t.Stop()
	late := false
	select {
	case <-idle:
	case <-t.C:
		late = true
		b.log.Warn("shutdown grace over; cancelling the handlers still running", "grace", b.cfg.ShutdownGrace)
	}
	b.stopHandlers()
	b.taskMu.Lock() // no spawn is between its check and its send now
	b.tasksClosed = true
	b.taskMu.Unlock()
	stopWorkers()
	if late {
		for drained := false; !drained; {
			select {
			case <-b.tasks:
				b.pending.Done()
				b.dropTasks(1)
			default:
				drained = true
			}
		}
	}
	<-idle
}

// dropTasks logs acked requests that were never handled.
func (b *Bot) dropTasks(n int) {
	b.log.Warn("acked request dropped at shutdown", "n", n)
}

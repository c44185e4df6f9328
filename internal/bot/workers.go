package bot

import (
	"context"
	"fmt"
	"time"
)

// task is one handler call waiting for a worker.
type task func(context.Context)

// spawn queues fn for a handler worker. The queue is deep, so the socket
// loop (which has already acked) only waits when handlers fall far behind.
func (b *Bot) spawn(ctx context.Context, fn task) {
	b.pending.Add(1)
	select {
	case b.tasks <- fn:
	case <-ctx.Done():
		b.pending.Done()
	}
}

// work runs queued handlers until ctx ends; Concurrency workers bound how
// many run at once.
func (b *Bot) work(ctx context.Context) {
	for {
		select {
		case fn := <-b.tasks:
			b.runTask(ctx, fn)
		case <-ctx.Done():
			return
		}
	}
}

// runTask runs one handler with a deadline, surviving its panic.
func (b *Bot) runTask(ctx context.Context, fn task) {
	defer b.pending.Done()
	defer func() {
		if p := recover(); p != nil {
			b.cfg.Metrics.handlerErrors.Inc()
			b.log.Error("handler panicked", "panic", fmt.Sprint(p))
		}
	}()
	hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fn(hctx)
}

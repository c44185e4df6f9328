package jobs

// Wake wakes the watchers of a job (and WatchAll waiters) without an
// event: a hint that the job changed in the store through another replica.
// Watchers re-read the store; subscribers see nothing.
func (b *Broker) Wake(jobID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w, ok := b.waiters[jobID]; ok {
		close(w.ch)
		delete(b.waiters, jobID)
	}
	close(b.any)
	b.any = make(chan struct{})
}

// WakeAll wakes every watcher, for when change hints may have been lost.
func (b *Broker) WakeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, w := range b.waiters {
		close(w.ch)
		delete(b.waiters, id)
	}
	close(b.any)
	b.any = make(chan struct{})
}

// ChangedElsewhere tells the service that another replica changed the job
// (or, with an empty id, that any job may have changed): waiters re-read
// the store and the timer loop re-reads its next deadline.
func (s *Service) ChangedElsewhere(jobID string) {
	if s.broker != nil {
		if jobID == "" {
			s.broker.WakeAll()
		} else {
			s.broker.Wake(jobID)
		}
	}
	s.pokeTimers()
}

package jobs

import (
	"context"
	"time"
)

// Store persists jobs. Every method that changes state does so in a single
// transaction: the job record, its log entries, its notifications and the
// store's own indexes (status, channel, timers) commit together or not at all.
type Store interface {
	// CreateJob stores a new job with its first effects; ECONFLICT if the
	// id exists.
	CreateJob(ctx context.Context, job *Job, fx Effects) error
	// UpdateJob loads the job, lets fn change it and returns what fn wants
	// recorded, then writes it all in one transaction. If fn returns an
	// error nothing is written. ENOTFOUND for an unknown id. The store
	// assigns log sequence numbers; fn must bump Version itself.
	UpdateJob(ctx context.Context, id string, fn func(*Job) (Effects, error)) (*Job, []LogEntry, error)
	// GetJob returns a copy of the job; ENOTFOUND for an unknown id.
	GetJob(ctx context.Context, id string) (*Job, error)
	// ListJobs lists jobs newest first from an index, never a full scan.
	ListJobs(ctx context.Context, q ListQuery) (JobPage, error)
	// AppendLog appends entries to an existing job's log with group commit,
	// dropping entries whose Key was seen before for the job. It returns
	// the entries actually appended, with their sequence numbers. A limit
	// above 0 is the most entries the job's log may hold: an append that
	// would take it past (entries it drops do not count) is refused with
	// EQUOTA and writes nothing, checked in the append's own transaction so
	// that concurrent appends cannot pass it together.
	AppendLog(ctx context.Context, jobID string, entries []LogEntry, limit uint64) ([]LogEntry, error)
	// Log returns up to limit entries with Seq > after, in order.
	Log(ctx context.Context, jobID string, after uint64, limit int) ([]LogEntry, error)
	// WaitingOn returns the jobs whose open gate names any of the keys
	// (see AssigneeKey and Identity.AssigneeKeys), newest first, at most
	// limit (0: all). It reads an index of open gates by assignee that is
	// written in the same transaction as the job, never every job.
	WaitingOn(ctx context.Context, keys []string, limit int) ([]*Job, error)
	// JobByChannel returns the id of the job a Slack channel is bound to;
	// ENOTFOUND if none.
	JobByChannel(ctx context.Context, channelID string) (string, error)
	// JobByMessage returns the id of the job whose gate announcement is the
	// Slack message ts in channelID; ENOTFOUND if none.
	JobByMessage(ctx context.Context, channelID, ts string) (string, error)
	// DueJobs returns ids of jobs whose NextWake is at or before t, earliest
	// first, and the earliest wake time after t (zero if none).
	DueJobs(ctx context.Context, t time.Time, limit int) ([]string, time.Time, error)
	// Outbox returns up to limit pending notifications due at or before t,
	// oldest first, and the earliest due time of the rest (zero if none).
	// It is for inspection and tests: it may read the whole outbox.
	Outbox(ctx context.Context, t time.Time, limit int) ([]Notification, time.Time, error)
	// OutboxDue returns the work one delivery pass may do: the lanes
	// whose head (oldest pending notification) is due, each with its
	// leading due notifications in creation order. A notification without
	// a target also waits behind every older pending one of the same
	// channel type and job that has a target, so "resolved" never
	// overtakes "opened". It reads a due-time index of lane heads, so its
	// cost follows the work due, not the backlog.
	OutboxDue(ctx context.Context, q OutboxQuery) (OutboxWork, error)
	// SettleNotification removes a delivered (or abandoned) notification.
	SettleNotification(ctx context.Context, id string) error
	// DeferNotification records a failed attempt and when to try again.
	DeferNotification(ctx context.Context, id string, next time.Time, lastErr string) error
	// PutFreeze stores a deployment freeze (a new id each time).
	PutFreeze(ctx context.Context, f Freeze) error
	// DeleteFreeze removes a freeze; ENOTFOUND for an unknown id.
	DeleteFreeze(ctx context.Context, id string) error
	// Freezes returns every stored freeze, ended ones included, ordered by
	// until then id.
	Freezes(ctx context.Context) ([]Freeze, error)
	// Once records key and reports whether it was new: durable dedupe for
	// redelivered envelopes and single-use tokens.
	Once(ctx context.Context, key string) (bool, error)
	// PruneKeys forgets dedupe keys recorded before before: Once keys,
	// log entry keys and the ids of settled notifications (a pending
	// notification's id is never pruned). One call is one short
	// transaction over at most limit keys, so writers never wait long; it
	// reports More while the sweep has keys left to look at. Keys stored
	// without a time (files written before keys had one) are stamped with
	// the current time, so they go one retention window later.
	PruneKeys(ctx context.Context, before time.Time, limit int) (PruneResult, error)
	// SessionStore keeps the web monitor's sessions.
	SessionStore
	// AnnotationStore keeps annotations and file bytes apart from jobs.
	AnnotationStore
}

// AnnotationStore keeps a job's annotations beside the job record, so that
// reading or changing a job costs the same with 10 or 10,000 of them, and
// file bytes apart from the log, so that a log page never carries them.
// Annotations are written with Effects.Annotations.
type AnnotationStore interface {
	// Annotations returns up to limit (0: all) annotation records of a job
	// with ID > after, in order; an unknown job has none.
	Annotations(ctx context.Context, jobID string, after, limit int) ([]AnnotationRef, error)
	// AnnotationContent returns the stored bytes of file annotation n;
	// ENOTFOUND when none are kept.
	AnnotationContent(ctx context.Context, jobID string, n int) ([]byte, error)
	// LogCount returns how many entries a job's log has had (its last
	// sequence number): the per-job log quota reads it.
	LogCount(ctx context.Context, jobID string) (uint64, error)
}

// NewAnnotationRecord is an annotation written with a change: its record
// and, for a file, its bytes.
type NewAnnotationRecord struct {
	Ref     AnnotationRef
	Content []byte
}

// PruneResult is what one PruneKeys call did.
type PruneResult struct {
	// Deleted keys were older than the cut-off.
	Deleted int
	// Stamped keys had no time and were given the current one.
	Stamped int
	// More is true while the sweep has keys left: call again.
	More bool
}

// Effects is what one state change records besides the job itself.
type Effects struct {
	Log    []LogEntry
	Notify []Notification
	// Once are single-use keys spent with the change (the Once store): if
	// any was spent before, the store writes nothing and returns
	// ECONFLICT.
	Once []string
	// Annotations are written beside the job (AnnotationStore), bytes
	// apart from their record.
	Annotations []NewAnnotationRecord
}

// Notification is one message to deliver through the durable outbox. Its
// ID is derived from its cause, so the same cause never enqueues twice.
type Notification struct {
	ID        string        `json:"id"`
	JobID     string        `json:"jobId"`
	GateID    string        `json:"gateId,omitempty"`
	Event     string        `json:"event"`
	Channel   NotifyChannel `json:"channel"`
	Assignees []string      `json:"assignees,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
	DueAt     time.Time     `json:"dueAt"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"lastError,omitempty"`
}

// Notification events.
const (
	NotifyGateOpened   = "gate_opened"
	NotifyReminder     = "reminder"
	NotifyEscalated    = "escalated"
	NotifyReassigned   = "reassigned"
	NotifyGateResolved = "gate_resolved"
)

// ListQuery selects jobs for listing.
type ListQuery struct {
	Status Status
	Limit  int
	Cursor string
}

// JobPage is one page of a listing; Next is the cursor of the next page or
// "" at the end.
type JobPage struct {
	Jobs []*Job `json:"jobs"`
	Next string `json:"next,omitempty"`
}

// Notifier delivers one notification of a channel type ("slack", "email",
// "webhook"). The outbox worker calls it and retries on error; a
// *RetryAfterError says when (Slack's 429 Retry-After).
type Notifier interface {
	Notify(ctx context.Context, n Notification, job *Job) error
}

// RetryAfterError asks the outbox to retry no sooner than After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error implements error.
func (e *RetryAfterError) Error() string {
	return "retry after " + e.After.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError marks a delivery failure that retrying cannot fix (a
// malformed address, a deleted channel). The outbox drops such a
// notification, counts it and says why in the job log.
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

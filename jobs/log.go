package jobs

import "time"

// LogKind says what a log entry records. Audit entries record every change
// to a job; message entries are mirrored chat; the rest are what their names
// say.
type LogKind string

// Log entry kinds.
const (
	LogAudit      LogKind = "audit"
	LogMessage    LogKind = "message"
	LogAnnotation LogKind = "annotation"
	LogTalkBack   LogKind = "talkback"
	LogNotify     LogKind = "notify"
)

// LogEntry is one line of a job's log. Seq is assigned by the store and is
// strictly increasing per job.
type LogEntry struct {
	Seq    uint64            `json:"seq"`
	At     time.Time         `json:"at"`
	Kind   LogKind           `json:"kind"`
	Actor  string            `json:"actor,omitempty"`
	Via    string            `json:"via,omitempty"`
	Text   string            `json:"text"`
	Gate   string            `json:"gate,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	// Key makes an append idempotent: an entry whose key the store has seen
	// for this job is dropped (Slack redeliveries, retried API calls).
	Key string `json:"key,omitempty"`
}

// Annotation kinds accepted by Annotate.
const (
	AnnotationComment = "comment"
	AnnotationFile    = "file"
	AnnotationLog     = "log"
	AnnotationMisc    = "misc"
)

// AnnotationRef is the record of one annotation, kept by the store beside
// the job (never inside its record); a file's bytes are kept apart again
// (Store.AnnotationContent), and the log entry refers to them.
type AnnotationRef struct {
	ID      int       `json:"id"`
	Kind    string    `json:"kind"`
	Name    string    `json:"name,omitempty"`
	Size    int       `json:"size"`
	Preview string    `json:"preview,omitempty"`
	Actor   string    `json:"actor"`
	Via     string    `json:"via"`
	At      time.Time `json:"at"`
	// ContentType is a file's media type, when known.
	ContentType string `json:"contentType,omitempty"`
	// Stored says a file's bytes are kept (GET …/annotations/{n}/content);
	// false for a file kept only as metadata and a permalink.
	Stored bool `json:"stored,omitempty"`
	// Permalink is where the file lives elsewhere (Slack).
	Permalink string `json:"permalink,omitempty"`
	// Key is the idempotency key the annotation was made with.
	Key string `json:"key,omitempty"`
}

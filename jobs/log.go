package jobs

import "time"

// Log entry kinds. Audit entries record every change to a job; message
// entries are mirrored chat; the rest are what their names say.
const (
	LogAudit      = "audit"
	LogMessage    = "message"
	LogAnnotation = "annotation"
	LogTalkBack   = "talkback"
	LogNotify     = "notify"
)

// LogEntry is one line of a job's log. Seq is assigned by the store and is
// strictly increasing per job.
type LogEntry struct {
	Seq    uint64            `json:"seq"`
	At     time.Time         `json:"at"`
	Kind   string            `json:"kind"`
	Actor  string            `json:"actor,omitempty"`
	Via    string            `json:"via,omitempty"`
	Text   string            `json:"text"`
	Gate   string            `json:"gate,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	// Content carries the bytes of a file annotation (base64 in JSON).
	Content []byte `json:"contentBase64,omitempty"`
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

// AnnotationRef is the job's record of an annotation; the content itself is
// in the log entry it names by key.
type AnnotationRef struct {
	ID      int       `json:"id"`
	Kind    string    `json:"kind"`
	Name    string    `json:"name,omitempty"`
	Size    int       `json:"size"`
	Preview string    `json:"preview,omitempty"`
	Actor   string    `json:"actor"`
	Via     string    `json:"via"`
	At      time.Time `json:"at"`
}

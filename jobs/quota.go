package jobs

// Error codes of the size limits: one payload too large (HTTP 413) and a
// job's quota used up (HTTP 429).
const (
	ETOOLARGE = "too_large"
	EQUOTA    = "quota_exceeded"
)

// Quotas bound what one job may hold (issue 17: a 42 MB log read, writes
// slowing as a job grows). Zero fields are the defaults; the config's
// `limits:` section sets them.
type Quotas struct {
	// JobAnnotations caps the annotations of one job; 100,000 by default.
	JobAnnotations int
	// JobAnnotationBytes caps the bytes of one job's annotations (text and
	// file contents together); 256 MiB by default.
	JobAnnotationBytes int64
	// JobFiles caps the file annotations whose bytes one job keeps; 1,000
	// by default.
	JobFiles int
	// JobLogEntries caps the entries appended to one job's log by
	// AppendLog (mirrored chat, TalkBack output); 200,000 by default,
	// checked in the append's transaction; attempts on a closed gate stop
	// being logged then. The audit entries of state changes are never
	// refused.
	JobLogEntries int
	// LogPageBytes caps the text of one page of a job's log (at least one
	// entry is always returned); 1 MiB by default.
	LogPageBytes int
	// JobPageBytes caps the (estimated) size of one page of the job list
	// (at least one job is always returned); 4 MiB by default.
	JobPageBytes int
}

// Quota defaults.
const (
	DefaultJobAnnotations     = 100_000
	DefaultJobAnnotationBytes = 256 << 20
	DefaultJobFiles           = 1000
	DefaultJobLogEntries      = 200_000
	DefaultLogPageBytes       = 1 << 20
	DefaultJobPageBytes       = 4 << 20
)

// WithDefaults fills zero fields with the defaults.
func (q Quotas) WithDefaults() Quotas {
	if q.JobAnnotations <= 0 {
		q.JobAnnotations = DefaultJobAnnotations
	}
	if q.JobAnnotationBytes <= 0 {
		q.JobAnnotationBytes = DefaultJobAnnotationBytes
	}
	if q.JobFiles <= 0 {
		q.JobFiles = DefaultJobFiles
	}
	if q.JobLogEntries <= 0 {
		q.JobLogEntries = DefaultJobLogEntries
	}
	if q.LogPageBytes <= 0 {
		q.LogPageBytes = DefaultLogPageBytes
	}
	if q.JobPageBytes <= 0 {
		q.JobPageBytes = DefaultJobPageBytes
	}
	return q
}

// checkAnnotation refuses an annotation that would take job j over one of
// its quotas. It runs inside the change's transaction, so concurrent
// annotations cannot overshoot together.
func (q Quotas) checkAnnotation(j *Job, size int, file bool) error {
	switch {
	case j.AnnotationCount+1 > q.JobAnnotations:
		return Errorf(EQUOTA, "job %s has %d annotations, the most limits.jobAnnotations allows (%d)", j.ID, j.AnnotationCount, q.JobAnnotations)
	case j.AnnotationBytes+int64(size) > q.JobAnnotationBytes:
		return Errorf(EQUOTA, "job %s holds %s of annotations; %s more would pass limits.jobAnnotationBytes (%s)",
			j.ID, ByteSize(int(j.AnnotationBytes)), ByteSize(size), ByteSize(int(q.JobAnnotationBytes)))
	case file && j.FileCount+1 > q.JobFiles:
		return Errorf(EQUOTA, "job %s keeps %d files, the most limits.jobFiles allows (%d)", j.ID, j.FileCount, q.JobFiles)
	}
	return nil
}

// LogFull is the refusal of n more entries for a job whose log holds
// count of at most limit (limits.jobLogEntries). Stores return it from
// AppendLog, whose transaction checks the limit.
func LogFull(jobID string, count, n, limit uint64) *Error {
	return Errorf(EQUOTA, "job %s has %d log entries; %d more would pass the most limits.jobLogEntries allows (%d)", jobID, count, n, limit)
}

// entrySize is what an entry weighs in a log page: its text, fields and
// key, plus room for the rest of its JSON.
func entrySize(e LogEntry) int {
	n := len(e.Text) + len(e.Key) + len(e.Actor) + 64
	for k, v := range e.Fields {
		n += len(k) + len(v)
	}
	return n
}

// jobSize estimates the bytes a job takes in a list answer: its context,
// names, descriptions and checklists, plus a fixed share per record, gate
// and annotation. It walks the job without encoding it.
func jobSize(j *Job) int {
	n := 512 + len(j.Name) + valueSize(j.Context) + 128*len(j.Annotations) + 64*len(j.Channels)
	for _, g := range j.Gates {
		n += 512 + len(g.Name) + len(g.Description) + 32*(len(g.Ticks)+len(g.Approvals)+len(g.Messages))
		for _, s := range g.Checklist {
			n += len(s) + 8
		}
		for _, s := range g.Assignees {
			n += len(s) + 4
		}
	}
	return n
}

// valueSize estimates the JSON size of a decoded JSON value.
func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + valueSize(e)
		}
		return n
	case []any:
		n := 2
		for _, e := range x {
			n += 1 + valueSize(e)
		}
		return n
	}
	return 8
}

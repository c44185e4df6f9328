package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// NewAnnotation is what someone attaches to a job.
type NewAnnotation struct {
	Kind    string         `json:"kind"`
	Text    string         `json:"text,omitempty"`
	Name    string         `json:"name,omitempty"`
	Content []byte         `json:"contentBase64,omitempty"`
	Data    map[string]any `json:"data,omitempty"`
	// ContentType is a file's media type ("image/png"); detected from the
	// bytes when empty.
	ContentType string `json:"contentType,omitempty"`
	// Permalink is where a file lives elsewhere (a Slack file too large to
	// keep, or one Slack refused to hand over): a file annotation with a
	// permalink and no content keeps only the file's metadata.
	Permalink string `json:"permalink,omitempty"`
	// Key makes the annotation idempotent: a second annotation with a key
	// the job has seen changes nothing (a redelivered Slack file share).
	Key string `json:"key,omitempty"`
}

// RunStateAnnotation names the file annotation in which `cla run
// --state-store server` keeps a run's state. Only the job's requester (the
// run's own identity) may write it, so no other token can forge a resume.
const RunStateAnnotation = "cla-run-state.json"

// Annotate attaches a comment, file, log or misc annotation. Terminal jobs
// accept annotations too.
//
// The annotation is written beside the job, never into its record, so the
// cost of the change does not grow with the job's history; the job
// returned carries only the annotation just made. A keyed annotation
// spends the key with the change (the Once store), so a redelivery that
// races the first one changes nothing.
func (s *Service) Annotate(ctx context.Context, actor Identity, via, id string, in NewAnnotation) (*Job, error) {
	if err := s.validateAnnotation(in, s.annotationLimit(via)); err != nil {
		return nil, err
	}
	var ref AnnotationRef
	job, _, err := s.change(ctx, id, by(EventJobUpdated, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if in.Name == RunStateAnnotation && actor.Name != j.Requester {
			return nil, Errorf(EFORBIDDEN, "only the job's own identity (%s) may write %s; %s may not", j.Requester, RunStateAnnotation, actor.Name)
		}
		size, file := len(in.Text)+len(in.Content), in.Kind == AnnotationFile && len(in.Content) > 0
		if err := s.quotas.checkAnnotation(j, size, file); err != nil {
			return nil, err
		}
		ref = newAnnotationRef(j.AnnotationCount+1, in, actor, via, now)
		j.AnnotationCount++
		j.AnnotationBytes += int64(size)
		if file {
			j.FileCount++
		}
		if in.Key != "" {
			fx.Once = append(fx.Once, annotationKey(id, in.Key))
		}
		fx.Annotations = append(fx.Annotations, NewAnnotationRecord{Ref: ref, Content: in.Content})
		fx.Log = append(fx.Log, annotationEntry(id, ref, in))
		return nil, nil
	})
	if in.Key != "" && ErrorCode(err) == ECONFLICT {
		return s.GetJob(ctx, id) // the key was spent: this annotation exists
	}
	if in.Key != "" && ErrorCode(err) == EQUOTA && s.hasAnnotationKey(ctx, id, in.Key) {
		// The quota check runs before the key is spent: a redelivery of the
		// annotation that took the last slot is answered as made.
		return s.GetJob(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	job.Annotations = []AnnotationRef{ref}
	return job, nil
}

// hasAnnotationKey reports whether job id has an annotation made with key.
// Only a refused keyed annotation asks, so the scan is off the common path.
func (s *Service) hasAnnotationKey(ctx context.Context, id, key string) bool {
	refs, err := s.store.Annotations(ctx, id, 0, 0)
	if err != nil {
		s.log.Warn("read annotations", "job", id, "err", err)
		return false
	}
	for _, r := range refs {
		if r.Key == key {
			return true
		}
	}
	return false
}

// annotationKey is the single-use key that makes a keyed annotation
// idempotent. The caller's key is hashed: a store may keep keys as text
// (PostgreSQL refuses NUL bytes and invalid UTF-8) with a bounded length,
// and a job id never contains ':'.
func annotationKey(jobID, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "annotation:" + jobID + ":" + hex.EncodeToString(sum[:16])
}

// ContentPath is the API route of a file annotation's bytes: what a log
// entry carries instead of the bytes.
func ContentPath(jobID string, n int) string {
	return fmt.Sprintf("/v1/jobs/%s/annotations/%d/content", jobID, n)
}

func newAnnotationRef(n int, in NewAnnotation, actor Identity, via string, now time.Time) AnnotationRef {
	ref := AnnotationRef{ID: n, Kind: in.Kind, Name: in.Name, Size: len(in.Text) + len(in.Content),
		Preview: preview(in.Text, 200), Actor: actor.Name, Via: via, At: now, Key: in.Key}
	if in.Kind == AnnotationFile {
		ref.Size, ref.ContentType, ref.Permalink = len(in.Content), in.ContentType, in.Permalink
		ref.Stored = len(in.Content) > 0
		if !ref.Stored {
			switch n := in.Data["size"].(type) {
			case int:
				ref.Size = n
			case float64:
				ref.Size = int(n)
			}
		}
	}
	if in.Kind == AnnotationMisc && in.Text == "" {
		ref.Preview = preview(MiscText(in.Data), 200)
	}
	return ref
}

// annotationEntry is the log entry that records an annotation. A file's
// entry refers to its bytes (field "content": the content route); it never
// carries them.
func annotationEntry(jobID string, ref AnnotationRef, in NewAnnotation) LogEntry {
	text := in.Text
	if in.Kind == AnnotationMisc && text == "" {
		text = MiscText(in.Data)
	}
	entry := LogEntry{At: ref.At, Kind: LogAnnotation, Actor: ref.Actor, Via: ref.Via, Text: text,
		Fields: map[string]string{"annotation": fmt.Sprint(ref.ID), "annotationKind": in.Kind}, Key: in.Key}
	put := func(k, v string) {
		if v != "" {
			entry.Fields[k] = v
		}
	}
	put("name", in.Name)
	put("contentType", in.ContentType)
	put("permalink", in.Permalink)
	if in.Kind == AnnotationFile {
		entry.Fields["size"] = fmt.Sprint(ref.Size)
		if ref.Stored {
			entry.Fields["content"] = ContentPath(jobID, ref.ID)
		}
	}
	for k, v := range in.Data {
		entry.Fields["data."+k] = fmt.Sprint(v)
	}
	return entry
}

// MiscText is how a misc annotation's data reads as text: "key=value"
// pairs in key order, values with spaces quoted ("build=812
// commit=abc123").
func MiscText(data map[string]any) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := fmt.Sprint(data[k])
		if v == "" || strings.ContainsAny(v, " \t\n\"=") {
			v = strconv.Quote(v)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " ")
}

// AnnotationContent returns file annotation n of a job (numbered from 1)
// and its bytes. An unknown number is ENOTFOUND; an annotation that is not
// a file, or a file kept only as a link, is EINVALID with words saying so.
func (s *Service) AnnotationContent(ctx context.Context, id string, n int) (AnnotationRef, []byte, error) {
	if !ValidID(id) {
		return AnnotationRef{}, nil, Errorf(EINVALID, "job id %q is not valid", id)
	}
	job, err := s.store.GetJob(ctx, id)
	if err != nil {
		return AnnotationRef{}, nil, err
	}
	if n < 1 || n > job.AnnotationCount {
		return AnnotationRef{}, nil, Errorf(ENOTFOUND, "job %s has no annotation %d (it has %d)", id, n, job.AnnotationCount)
	}
	refs, err := s.store.Annotations(ctx, id, n-1, 1)
	if err != nil {
		return AnnotationRef{}, nil, err
	}
	if len(refs) == 0 || refs[0].ID != n {
		return AnnotationRef{}, nil, Errorf(ENOTFOUND, "job %s has no annotation %d", id, n)
	}
	ref := refs[0]
	switch {
	case ref.Kind != AnnotationFile:
		return ref, nil, Errorf(EINVALID, "annotation %d of job %s is a %s, not a file", n, id, ref.Kind)
	case !ref.Stored && ref.Permalink != "":
		return ref, nil, Errorf(EINVALID, "annotation %d of job %s kept only the file's metadata; it is at %s", n, id, ref.Permalink)
	}
	content, err := s.store.AnnotationContent(ctx, id, n)
	if ErrorCode(err) == ENOTFOUND {
		return ref, nil, Errorf(ENOTFOUND, "the content of annotation %d of job %s is not kept", n, id)
	}
	return ref, content, err
}

// MaxFileBytes is the cap on one annotation's text and file content.
func (s *Service) MaxFileBytes() int { return s.maxFileBytes }

// MaxChatFileBytes is the cap on a file shared in a job channel that cla
// keeps whole.
func (s *Service) MaxChatFileBytes() int { return s.maxChatFileBytes }

// annotationLimit is the cap on one annotation through a door: files
// shared in Slack may be bigger than uploads (Slack already took them, and
// the bot checks the cap before downloading).
func (s *Service) annotationLimit(via string) int {
	if via == ViaSlack {
		return max(s.maxChatFileBytes, s.maxFileBytes)
	}
	return s.maxFileBytes
}

func (s *Service) validateAnnotation(in NewAnnotation, limit int) error {
	switch in.Kind {
	case AnnotationComment, AnnotationLog:
		if strings.TrimSpace(in.Text) == "" {
			return Errorf(EINVALID, "a %s annotation needs text", in.Kind)
		}
	case AnnotationFile:
		if in.Name == "" || (len(in.Content) == 0 && in.Permalink == "") {
			return Errorf(EINVALID, "a file annotation needs name and contentBase64 (or a permalink to keep only its metadata)")
		}
	case AnnotationMisc:
		if in.Text == "" && len(in.Data) == 0 {
			return Errorf(EINVALID, "a misc annotation needs text or data")
		}
	default:
		return Errorf(EINVALID, "annotation kind %q must be comment, file, log or misc", in.Kind)
	}
	if size := len(in.Content) + len(in.Text); size > limit {
		return Errorf(ETOOLARGE, "annotation is %d bytes; the limit is %d bytes (%s) for a file or text annotation (limits.annotationBytes)", size, limit, ByteSize(limit))
	}
	return nil
}

func preview(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// AppendLog adds entries to a job's log (mirrored chat, TalkBack output)
// without changing the job record. Entries whose Key was seen are dropped,
// so redeliveries never log twice. Terminal jobs still log.
func (s *Service) AppendLog(ctx context.Context, id string, entries []LogEntry) ([]LogEntry, error) {
	if !ValidID(id) {
		return nil, Errorf(EINVALID, "job id %q is not valid", id)
	}
	now := s.Now()
	for i := range entries {
		if entries[i].At.IsZero() {
			entries[i].At = now
		}
	}
	added, err := s.store.AppendLog(ctx, id, entries, uint64(s.quotas.JobLogEntries))
	if err != nil || len(added) == 0 {
		return added, err
	}
	s.publish(Event{Type: EventLogAppended, Job: &Job{ID: id}, Entries: added})
	return added, nil
}

// Log returns up to limit (at most 1000) of a job's log entries after a
// sequence number, whatever their size: fewer than limit means the end.
// Pages for API readers are LogPage's, which also caps their bytes.
func (s *Service) Log(ctx context.Context, id string, after uint64, limit int) ([]LogEntry, error) {
	if !ValidID(id) {
		return nil, Errorf(EINVALID, "job id %q is not valid", id)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if _, err := s.store.GetJob(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Log(ctx, id, after, limit)
}

// LogPage returns one page of a job's log after a sequence number: at most
// limit entries (1000 at most) and at most limits.logPageBytes of them, but
// always at least one when there is one, so a reader moves on. more says
// the page was cut short by its size (read on with the last seq). Entries
// never carry file bytes (see ContentPath).
func (s *Service) LogPage(ctx context.Context, id string, after uint64, limit int) (page []LogEntry, more bool, err error) {
	if !ValidID(id) {
		return nil, false, Errorf(EINVALID, "job id %q is not valid", id)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if _, err := s.store.GetJob(ctx, id); err != nil {
		return nil, false, err
	}
	// Read in chunks, so a page of large entries stops early instead of
	// reading a thousand of them.
	out, used := []LogEntry{}, 0
	for len(out) < limit {
		want := min(limit-len(out), 64)
		chunk, err := s.store.Log(ctx, id, after, want)
		if err != nil {
			return nil, false, err
		}
		for _, e := range chunk {
			used += entrySize(e)
			if used > s.quotas.LogPageBytes && len(out) > 0 {
				return out, true, nil
			}
			out = append(out, e)
			after = e.Seq
		}
		if len(chunk) < want {
			break
		}
	}
	return out, false, nil
}

// BindChannel binds a Slack channel to a job; a channel serves one job.
func (s *Service) BindChannel(ctx context.Context, actor Identity, via, id string, ch Channel) (*Job, error) {
	if other, err := s.store.JobByChannel(ctx, ch.ID); err == nil && other != id {
		return nil, Errorf(ECONFLICT, "channel #%s is already bound to job %s", ch.Name, other)
	}
	job, _, err := s.change(ctx, id, by(EventJobUpdated, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if j.HasChannel(ch.ID) {
			return nil, errUnchanged
		}
		j.Channels = append(j.Channels, ch)
		fx.Log = append(fx.Log, audit(now, actor, via, "", fmt.Sprintf("bound Slack channel #%s (%s)", ch.Name, ch.ID)))
		return nil, nil
	})
	if errors.Is(err, errUnchanged) {
		return s.GetJob(ctx, id)
	}
	return job, err
}

// JobForChannel returns the job bound to a Slack channel.
func (s *Service) JobForChannel(ctx context.Context, channelID string) (*Job, error) {
	id, err := s.store.JobByChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	return s.store.GetJob(ctx, id)
}

// ByteSize says a size in bytes for people: "812 B", "1.5 KiB", "1 MiB".
func ByteSize(n int) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB"} {
		if f < unit {
			break
		}
		f, suffix = f/unit, s
	}
	out := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(out, ".0") + " " + suffix
}

package jobs

import (
	"context"
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
func (s *Service) Annotate(ctx context.Context, actor Identity, via, id string, in NewAnnotation) (*Job, error) {
	if err := s.validateAnnotation(in, s.annotationLimit(via)); err != nil {
		return nil, err
	}
	job, _, err := s.change(ctx, id, by(EventJobUpdated, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if in.Name == RunStateAnnotation && actor.Name != j.Requester {
			return nil, Errorf(EFORBIDDEN, "only the job's own identity (%s) may write %s; %s may not", j.Requester, RunStateAnnotation, actor.Name)
		}
		for _, a := range j.Annotations {
			if in.Key != "" && a.Key == in.Key {
				return nil, errUnchanged
			}
		}
		ref := newAnnotationRef(len(j.Annotations)+1, in, actor, via, now)
		j.Annotations = append(j.Annotations, ref)
		fx.Log = append(fx.Log, annotationEntry(ref, in))
		return nil, nil
	})
	if errors.Is(err, errUnchanged) {
		return s.GetJob(ctx, id)
	}
	return job, err
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
// entry refers to its bytes by the annotation number; the bytes are in
// Content, which the API's log leaves out.
func annotationEntry(ref AnnotationRef, in NewAnnotation) LogEntry {
	text := in.Text
	if in.Kind == AnnotationMisc && text == "" {
		text = MiscText(in.Data)
	}
	entry := LogEntry{At: ref.At, Kind: LogAnnotation, Actor: ref.Actor, Via: ref.Via, Text: text, Content: in.Content,
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
	job, err := s.GetJob(ctx, id)
	if err != nil {
		return AnnotationRef{}, nil, err
	}
	if n < 1 || n > len(job.Annotations) {
		return AnnotationRef{}, nil, Errorf(ENOTFOUND, "job %s has no annotation %d (it has %d)", id, n, len(job.Annotations))
	}
	ref := job.Annotations[n-1]
	switch {
	case ref.Kind != AnnotationFile:
		return ref, nil, Errorf(EINVALID, "annotation %d of job %s is a %s, not a file", n, id, ref.Kind)
	case !ref.Stored && ref.Permalink != "":
		return ref, nil, Errorf(EINVALID, "annotation %d of job %s kept only the file's metadata; it is at %s", n, id, ref.Permalink)
	}
	want := fmt.Sprint(n)
	var after uint64
	for {
		entries, err := s.store.Log(ctx, id, after, 1000)
		if err != nil {
			return ref, nil, err
		}
		for _, e := range entries {
			if e.Kind == LogAnnotation && e.Fields["annotation"] == want {
				return ref, e.Content, nil
			}
		}
		if len(entries) < 1000 {
			return ref, nil, Errorf(ENOTFOUND, "the content of annotation %d of job %s is missing from its log", n, id)
		}
		after = entries[len(entries)-1].Seq
	}
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
		return Errorf(EINVALID, "annotation is %d bytes; the limit is %d bytes (%s) for a file or text annotation", size, limit, ByteSize(limit))
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
	added, err := s.store.AppendLog(ctx, id, entries)
	if err != nil || len(added) == 0 {
		return added, err
	}
	s.publish(Event{Type: EventLogAppended, Job: &Job{ID: id}, Entries: added})
	return added, nil
}

// Log returns a job's log entries after a sequence number.
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

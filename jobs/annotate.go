package jobs

import (
	"context"
	"fmt"
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
}

// RunStateAnnotation names the file annotation in which `cla run
// --state-store server` keeps a run's state. Only the job's requester (the
// run's own identity) may write it, so no other token can forge a resume.
const RunStateAnnotation = "cla-run-state.json"

// Annotate attaches a comment, file, log or misc annotation. Terminal jobs
// accept annotations too.
func (s *Service) Annotate(ctx context.Context, actor Identity, via, id string, in NewAnnotation) (*Job, error) {
	if err := s.validateAnnotation(in); err != nil {
		return nil, err
	}
	job, _, err := s.change(ctx, id, by(EventJobUpdated, actor, via), func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		if in.Name == RunStateAnnotation && actor.Name != j.Requester {
			return nil, Errorf(EFORBIDDEN, "only the job's own identity (%s) may write %s; %s may not", j.Requester, RunStateAnnotation, actor.Name)
		}
		ref := AnnotationRef{ID: len(j.Annotations) + 1, Kind: in.Kind, Name: in.Name, Size: len(in.Text) + len(in.Content),
			Preview: preview(in.Text, 200), Actor: actor.Name, Via: via, At: now}
		j.Annotations = append(j.Annotations, ref)
		entry := LogEntry{At: now, Kind: LogAnnotation, Actor: actor.Name, Via: via, Text: in.Text, Content: in.Content,
			Fields: map[string]string{"annotation": fmt.Sprint(ref.ID), "annotationKind": in.Kind}}
		if in.Name != "" {
			entry.Fields["name"] = in.Name
		}
		for k, v := range in.Data {
			entry.Fields["data."+k] = fmt.Sprint(v)
		}
		fx.Log = append(fx.Log, entry)
		return nil, nil
	})
	return job, err
}

func (s *Service) validateAnnotation(in NewAnnotation) error {
	switch in.Kind {
	case AnnotationComment, AnnotationLog:
		if strings.TrimSpace(in.Text) == "" {
			return Errorf(EINVALID, "a %s annotation needs text", in.Kind)
		}
	case AnnotationFile:
		if in.Name == "" || len(in.Content) == 0 {
			return Errorf(EINVALID, "a file annotation needs name and contentBase64")
		}
	case AnnotationMisc:
		if in.Text == "" && len(in.Data) == 0 {
			return Errorf(EINVALID, "a misc annotation needs text or data")
		}
	default:
		return Errorf(EINVALID, "annotation kind %q must be comment, file, log or misc", in.Kind)
	}
	if size := len(in.Content) + len(in.Text); size > s.maxFileBytes {
		return Errorf(EINVALID, "annotation is %d bytes; the limit is %d", size, s.maxFileBytes)
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
	if err == errUnchanged {
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

package jobs

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Service is every operation on jobs. Slack clicks, API calls, CLI commands
// and timer firings all end here, each in one store transaction followed by
// one published event.
type Service struct {
	store        Store
	broker       *Broker
	now          func() time.Time
	log          *slog.Logger
	maxFileBytes int
	tmplLimits   TemplateLimits
	limits       Limits
	quotas       Quotas
	rate         gateRate
	timersPoke   chan struct{}
	noBreakGlass bool
	assignees    AssigneeChecker
	defaults     []NotifyChannel

	restrictUnassigned bool
	defaultAssignees   []string
	// maxChatFileBytes caps what the Slack door may attach.
	maxChatFileBytes int
	markup           Markup
}

// Options tune a Service; zero values mean the defaults.
type Options struct {
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// MaxFileBytes caps a file annotation; 1 MiB by default.
	MaxFileBytes int
	// MaxChatFileBytes caps a file shared in a job's Slack channel that is
	// kept whole (annotations made via slack); 10 MiB by default. A bigger
	// one is kept as metadata and a permalink.
	MaxChatFileBytes int
	// TemplateLimits bound the rendering of descriptions; zero fields are
	// the defaults.
	TemplateLimits TemplateLimits
	// Limits bound gates: reminders, escalations, channels, and how many
	// gates one identity may open per minute.
	Limits Limits
	// Quotas bound what one job holds: annotations, files, log entries,
	// and the bytes of one log page.
	Quotas Quotas
	// RestrictUnassigned lets only admins and identities with
	// ResolveUnassigned resolve a gate with no assignees. `cla serve` sets
	// it unless assignees.anyoneResolvesUnassigned is true.
	RestrictUnassigned bool
	// DefaultAssignees are given to a gate opened without assignees
	// (assignees.default in the config). None by default.
	DefaultAssignees []string
	// DisableBreakGlass refuses every break-glass override.
	DisableBreakGlass bool
	// Assignees checks that a gate's assignees name someone; nil accepts
	// every assignee.
	Assignees AssigneeChecker
	// Markup is the chat format of gate descriptions: how the values a
	// description template prints are escaped, and which rendered texts
	// are refused. nil escapes &, < and > of every printed value and
	// refuses nothing; `cla serve` passes internal/slacktext.Markup.
	Markup Markup
	// DefaultChannels receive the notifications of a gate whose config
	// names no channels (ctrlplane's "workspace notification defaults",
	// notify.defaults in the config file). None by default.
	DefaultChannels []NotifyChannel
	// Logger receives what the service cannot report to a caller, such
	// as a late attempt it could not record (default slog.Default()).
	Logger *slog.Logger
}

// NewService wires the domain to its store and event broker.
func NewService(store Store, broker *Broker, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 1 << 20
	}
	if opts.MaxChatFileBytes <= 0 {
		opts.MaxChatFileBytes = 10 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Markup == nil {
		opts.Markup = plainMarkup{}
	}
	return &Service{store: store, broker: broker, now: opts.Now, maxFileBytes: opts.MaxFileBytes, maxChatFileBytes: opts.MaxChatFileBytes,
		tmplLimits: opts.TemplateLimits.WithDefaults(), limits: opts.Limits.WithDefaults(), quotas: opts.Quotas.WithDefaults(), timersPoke: make(chan struct{}, 1),
		noBreakGlass: opts.DisableBreakGlass, assignees: opts.Assignees,
		defaults: append([]NotifyChannel(nil), opts.DefaultChannels...), restrictUnassigned: opts.RestrictUnassigned,
		defaultAssignees: append([]string(nil), opts.DefaultAssignees...), log: opts.Logger, markup: opts.Markup}
}

// channelsOf is where a gate's notifications go: its own channels, else
// the configured defaults.
func (s *Service) channelsOf(g *Gate) []NotifyChannel {
	if len(g.Channels) > 0 {
		return g.Channels
	}
	return s.defaults
}

// ValidateChannels checks notification channels, such as the configured
// defaults, the way a gate's are checked.
func ValidateChannels(chs []NotifyChannel) error { return validateChannels(chs) }

// Broker returns the broker the service publishes to.
func (s *Service) Broker() *Broker { return s.broker }

// Store returns the store behind the service, for adapters that read.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.now().UTC() }

// NewJob is what a creator says about a job.
type NewJob struct {
	ID        string         `json:"id,omitempty"`
	Name      string         `json:"name"`
	Context   map[string]any `json:"context,omitempty"`
	Requester string         `json:"requester,omitempty"`
	Gate      *GateConfig    `json:"gate,omitempty"`
	// JobAgentConfig is ctrlplane's name for Gate: the manual-action
	// agent config, dispatched with Context. Give one or the other.
	JobAgentConfig *GateConfig `json:"jobAgentConfig,omitempty"`
}

// dispatchConfig is the gate to open with the job, from gate or
// jobAgentConfig. A jobAgentConfig without type or kind is a manual action:
// that is the only agent cla is.
func (in NewJob) dispatchConfig() (*GateConfig, error) {
	if in.Gate != nil && in.JobAgentConfig != nil {
		return nil, Errorf(EINVALID, "give gate or jobAgentConfig, not both")
	}
	if in.JobAgentConfig == nil {
		return in.Gate, nil
	}
	cfg := *in.JobAgentConfig
	if cfg.Type == "" && cfg.Kind == "" {
		cfg.Type = "manual-action"
	}
	return &cfg, nil
}

// CreateJob creates a job; a gate given with it opens at once and its
// outcome ends the job (ctrlplane's dispatch of a manual-action job). The
// job's name defaults to the gate's rendered name.
func (s *Service) CreateJob(ctx context.Context, actor Identity, via string, in NewJob) (*Job, error) {
	if in.ID == "" {
		in.ID = newID()
	}
	if !ValidID(in.ID) {
		return nil, Errorf(EINVALID, "job id %q must match [a-z0-9][a-z0-9._-]{0,63}", in.ID)
	}
	dispatch, err := in.dispatchConfig()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Name) == "" && dispatch == nil {
		return nil, Errorf(EINVALID, "job name is required (or a jobAgentConfig whose name becomes the job's)")
	}
	if in.Requester == "" {
		in.Requester = actor.Name
	}
	if in.Requester != actor.Name && !actor.Admin {
		// The requester may cancel the job and may not approve its gates:
		// naming someone else is an admin's act.
		return nil, Errorf(EFORBIDDEN, "%s may not create a job on behalf of %s: only admins may set requester", actor.Name, in.Requester)
	}
	if dispatch != nil { // gate or jobAgentConfig: the same checks
		gc := *dispatch
		if err := gc.Validate(); err != nil {
			return nil, err
		}
		if err := s.checkGateAssignees(ctx, &gc); err != nil {
			return nil, err
		}
		if err := s.checkGate(actor, &gc); err != nil {
			return nil, err
		}
		dispatch = &gc
	}
	now := s.Now()
	job := &Job{ID: in.ID, Name: in.Name, Status: StatusPending, Version: 1, Requester: in.Requester,
		Context: in.Context, CreatedAt: now, UpdatedAt: now, Channels: []Channel{}, Gates: []*Gate{},
		Annotations: []AnnotationRef{}, Metadata: map[string]string{}}
	var fx Effects
	var gate *Gate
	if dispatch != nil {
		cfg := *dispatch
		cfg.CompletesJob = true
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if err := s.renderConfig(&cfg, job); err != nil {
			return nil, err
		}
		g, gfx, err := s.openGate(job, actor, via, cfg, now)
		if err != nil {
			return nil, err
		}
		gate = g
		if strings.TrimSpace(job.Name) == "" {
			job.Name = g.Name
		}
		fx.Log = append(fx.Log, gfx.Log...)
		fx.Notify = gfx.Notify
	}
	fx.Log = append([]LogEntry{audit(now, actor, via, "", fmt.Sprintf("job created: %s", job.Name))}, fx.Log...)
	freezes, err := s.activeFreezes(ctx, false)
	if err != nil {
		return nil, err
	}
	if err := frozen(freezes, job.Context, false); err != nil {
		return nil, err
	}
	if err := s.store.CreateJob(ctx, job, fx); err != nil {
		return nil, fmt.Errorf("create job %s: %w", in.ID, err)
	}
	s.publish(Event{Type: EventJobCreated, Job: job.Clone(), Gate: gate, Entries: fx.Log, Actor: actor.Name, Via: via,
		Notified: len(fx.Notify)})
	if gate != nil {
		s.pokeTimers()
	}
	return job, nil
}

// GetJob returns one job.
func (s *Service) GetJob(ctx context.Context, id string) (*Job, error) {
	if !ValidID(id) {
		return nil, Errorf(EINVALID, "job id %q is not valid", id)
	}
	job, err := s.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if job.AnnotationCount > 0 {
		if job.Annotations, err = s.store.Annotations(ctx, id, 0, 0); err != nil {
			return nil, fmt.Errorf("annotations of %s: %w", id, err)
		}
	}
	return job, nil
}

// ListJobs lists jobs, newest first.
func (s *Service) ListJobs(ctx context.Context, q ListQuery) (JobPage, error) {
	if q.Status != "" && !q.Status.Valid() {
		return JobPage{}, Errorf(EINVALID, "unknown status %q", q.Status)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	// Read in chunks sized to what is left of limits.jobPageBytes, so a
	// page of large jobs stops early (with the cursor of where it stopped)
	// instead of reading hundreds of them.
	out := JobPage{Jobs: []*Job{}}
	used, want := 0, min(q.Limit, 4)
	for {
		page, err := s.store.ListJobs(ctx, ListQuery{Status: q.Status, Cursor: q.Cursor, Limit: want})
		if err != nil {
			return JobPage{}, err
		}
		for _, j := range page.Jobs {
			used += jobSize(j)
		}
		out.Jobs, out.Next, q.Cursor = append(out.Jobs, page.Jobs...), page.Next, page.Next
		left := q.Limit - len(out.Jobs)
		if page.Next == "" || left <= 0 || used >= s.quotas.JobPageBytes || len(out.Jobs) == 0 {
			return out, nil // (a store page with a cursor but no job: the client follows it)
		}
		// As many as the bytes left hold at the average size so far.
		avg := max(used/len(out.Jobs), 1)
		want = min(left, max((s.quotas.JobPageBytes-used)/avg, 1))
	}
}

// Wait returns the job as soon as its version is greater than since, or the
// current job when ctx ends first. It costs one parked goroutine, no polling.
func (s *Service) Wait(ctx context.Context, id string, since uint64) (*Job, error) {
	for {
		job, done, err := s.waitOnce(ctx, id, since)
		if done {
			return job, err
		}
	}
}

// waitOnce reads the job and, if it is not newer than since, waits for its
// next change; done says whether Wait can answer. The watch is held only
// while waiting, so ids that never change leave nothing behind.
func (s *Service) waitOnce(ctx context.Context, id string, since uint64) (*Job, bool, error) {
	changed, release := s.broker.Watch(id)
	defer release()
	// The read is not cut by ctx: a wait that ends (the client left, the
	// server stops) answers with the job as it is, also on stores whose
	// reads honour cancellation (PostgreSQL), instead of an error.
	job, err := s.GetJob(context.WithoutCancel(ctx), id)
	if err != nil || job.Version > since {
		return job, true, err
	}
	select {
	case <-changed:
		return nil, false, nil
	case <-ctx.Done():
		return job, true, nil
	}
}

// Progress records automated progress (PATCH): in_progress, successful,
// failure or cancelled. Cancelling also cancels an open gate.
func (s *Service) Progress(ctx context.Context, actor Identity, via, id string, status Status, msg string) (*Job, error) {
	switch status {
	case StatusInProgress, StatusSuccessful, StatusFailure, StatusCancelled:
	default:
		return nil, Errorf(EINVALID, "status must be in_progress, successful, failure or cancelled, not %q", status)
	}
	ev := by(EventJobUpdated, actor, via)
	job, _, err := s.change(ctx, id, ev, func(j *Job, fx *Effects, now time.Time) (*Gate, error) {
		ev.Type = EventJobUpdated
		if err := activeJob(j); err != nil {
			return nil, err
		}
		g := j.OpenGate()
		if status == StatusCancelled && !mayCancel(j, g, actor) {
			return nil, Errorf(EFORBIDDEN, "%s may not cancel job %s: only its requester (%s), an assignee of its open gate or an admin", actor.Name, j.ID, j.Requester)
		}
		if g != nil && status != StatusCancelled {
			return nil, Errorf(ECONFLICT, "job %s has open gate %s (%s); resolve it first", j.ID, g.ID, g.Name)
		}
		if g != nil {
			ev.Type = EventGateResolved
			g.close(OutcomeCancelled, actor.Name, via, now, msg, nil)
			fx.Notify = append(fx.Notify, resolvedNotifications(j, g, now)...)
		}
		if err := j.setStatus(status); err != nil {
			return nil, err
		}
		j.Message = msg
		fx.Log = append(fx.Log, audit(now, actor, via, "", withMessage("status "+string(status), msg)))
		return g, nil
	})
	return job, err
}

// change runs one state change: load, mutate, bump version, write with its
// effects in one transaction, then publish. e says what changed, who acted
// and through which door; fn may refine *e (a timer firing learns inside
// the transaction whether it timed out, escalated or reminded), and the
// store may run fn more than once, so fn sets every field it refines.
func (s *Service) change(ctx context.Context, id string, e *Event, fn func(*Job, *Effects, time.Time) (*Gate, error)) (*Job, *Gate, error) {
	if !ValidID(id) {
		return nil, nil, Errorf(EINVALID, "job id %q is not valid", id)
	}
	var gate *Gate
	var wakeBefore, wakeAfter time.Time
	notified := 0
	now := s.Now()
	job, entries, err := s.store.UpdateJob(ctx, id, func(j *Job) (Effects, error) {
		var fx Effects
		wakeBefore = j.NextWake()
		g, err := fn(j, &fx, now)
		if err != nil {
			return fx, err
		}
		gate, notified = g, len(fx.Notify)
		j.Version++
		j.UpdatedAt = now
		wakeAfter = j.NextWake()
		return fx, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if gate != nil {
		gate = job.Gate(gate.ID)
		if e.Type == EventGateResolved && gate.State == GateOpen {
			e.Type = EventGateVoted
		}
	}
	s.publish(Event{Type: e.Type, Job: job.Clone(), Gate: gate, Entries: entries, Actor: e.Actor, Via: e.Via, Notified: notified})
	if !wakeAfter.Equal(wakeBefore) {
		s.pokeTimers()
	}
	return job, gate, nil
}

// by is the event template of a change made by actor through via.
func by(typ EventType, actor Identity, via string) *Event {
	return &Event{Type: typ, Actor: actor.Name, Via: via}
}

func (s *Service) publish(e Event) {
	if s.broker != nil {
		s.broker.Publish(e)
	}
}

// mayCancel: cancelling ends someone else's work, so it takes the
// requester, an assignee of the open gate (not "anyone" of an unassigned
// one) or an admin.
func mayCancel(j *Job, g *Gate, actor Identity) bool {
	return actor.Admin || actor.Name == j.Requester || (g != nil && g.Assigned(actor))
}

func activeJob(j *Job) error {
	if j.Status.Terminal() {
		return Errorf(ECONFLICT, "job %s is %s; it accepts only annotations and log lines", j.ID, j.Status)
	}
	return nil
}

func audit(now time.Time, actor Identity, via, gate, text string) LogEntry {
	return LogEntry{At: now, Kind: LogAudit, Actor: actor.Name, Via: via, Gate: gate, Text: text}
}

func withMessage(text, msg string) string {
	if msg == "" {
		return text
	}
	return text + ": " + msg
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand never fails (it aborts the program instead)
	return "job-" + idEncoding.EncodeToString(b)
}

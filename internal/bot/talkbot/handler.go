package talkbot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
)

// Config wires a Handler to the domain, the allowlist, the executor and
// Slack. Registry or Executor may be nil: TalkBack is then "not
// configured" and every request is refused with that reason.
type Config struct {
	Service   *jobs.Service
	Directory *jobs.Directory
	Registry  *talkback.Registry
	Executor  *talkback.Executor
	Slack     *slack.Client
	Logger    *slog.Logger
	// Now is the clock for confirmation expiry; time.Now by default.
	Now func() time.Time
	// People maps Slack users to identities (with their Slack user
	// groups, which guards see) and channel ids to names. Share the bot's
	// (bot.Bot.People); nil builds one from Slack and Directory.
	People *people.Resolver
	// UnknownUsers is what Slack users outside Directory may do
	// (slack.unknownUsers; "" is readonly), for the Resolver built when
	// People is nil.
	UnknownUsers people.UnknownUsers
	// Metrics counts requests by outcome; nil makes an unregistered set.
	Metrics *Metrics
	// State keeps pending confirmations where every replica sees them;
	// nil uses the Service's store, which must then implement
	// jobs.ChatState (both cla stores do).
	State jobs.ChatState
}

// Request is one "run" request as the router hands it over: who typed it,
// where, and the raw Slack text after the word "run".
type Request struct {
	UserID    string
	ChannelID string
	// TS is the ts of the message that asked; "" for a slash command, whose
	// result is then posted in the channel rather than in a thread.
	TS string
	// ThreadTS is the thread the message was typed in, if any.
	ThreadTS string
	// Text is the text after "run", exactly as Slack sent it (still
	// escaped, auto-links included): "restart service=api".
	Text string
}

// thread returns the ts to reply under: the request's thread, its own
// message, or "" (top level) for slash commands.
func (r Request) thread() string {
	if r.ThreadTS != "" {
		return r.ThreadTS
	}
	return r.TS
}

// Handler answers TalkBack requests and confirm clicks. It is safe for
// concurrent use; Run and Click may take as long as the command runs.
type Handler struct {
	metrics *Metrics
	svc     *jobs.Service
	reg     *talkback.Registry
	exec    *talkback.Executor
	api     *slack.Client
	log     *slog.Logger
	now     func() time.Time
	people  *people.Resolver

	state jobs.ChatState
}

// New builds a Handler; it does not call Slack until a request arrives.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Directory == nil {
		cfg.Directory = jobs.NewDirectory(nil)
	}
	if cfg.People == nil {
		cfg.People = people.New(cfg.Slack, cfg.Directory, cfg.Logger)
		cfg.People.SetUnknownUsers(cfg.UnknownUsers)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.State == nil {
		state, ok := cfg.Service.Store().(jobs.ChatState)
		if !ok {
			panic(fmt.Sprintf("talkbot: store %T keeps no chat state (jobs.ChatState) and Config.State is nil", cfg.Service.Store()))
		}
		cfg.State = state
	}
	log := cfg.Logger.With("component", "talkbot")
	return &Handler{svc: cfg.Service, reg: cfg.Registry, exec: cfg.Executor, api: cfg.Slack, log: log,
		now: cfg.Now, people: cfg.People, metrics: cfg.Metrics,
		state: cfg.State}
}

// Run handles "run <action> key=value…". Whatever the requester can fix is
// answered ephemerally and nothing runs; the error return is only for
// failures worth logging by the caller (they were already answered).
func (h *Handler) Run(ctx context.Context, req Request) error {
	list := h.allowlist()
	if list == nil {
		return h.refuse(ctx, req, nil, "TalkBack is not configured on this server.")
	}
	use := people.Act
	if strings.TrimSpace(cleanText(req.Text)) == "" {
		use = people.Read // a bare "run" lists what one may run
	}
	if no := h.people.Refusal(h.user(ctx, req.UserID), use); no != "" {
		return h.refuse(ctx, req, nil, no)
	}
	job, err := h.svc.JobForChannel(ctx, req.ChannelID)
	if err != nil {
		if jobs.ErrorCode(err) == jobs.ENOTFOUND {
			return h.refuse(ctx, req, nil, "`run` works in a job channel, and this channel is not bound to a job. "+
				"Bind it with `@cla add #job-<id>`.")
		}
		_ = h.refuse(ctx, req, nil, "Sorry, I could not look up this channel's job; please try again.")
		return fmt.Errorf("job for channel %s: %w", req.ChannelID, err)
	}
	text := cleanText(req.Text)
	env := h.env(ctx, job, req.UserID, req.ChannelID)
	if strings.TrimSpace(text) == "" {
		return h.list(ctx, req, list, env)
	}
	cmd, err := talkback.ParseCommand(text)
	if err != nil {
		return h.refuseErr(ctx, req, job, text, err)
	}
	inv, err := list.Prepare(cmd, env)
	if err != nil {
		return h.refuseErr(ctx, req, job, text, err)
	}
	if inv.NeedsConfirm() {
		return h.askConfirm(ctx, req, job, inv)
	}
	id := newRequestID()
	h.logRequest(ctx, job.ID, inv, id, "allowed")
	return h.execute(ctx, run{id: id, jobID: job.ID, channel: req.ChannelID, thread: req.thread(), inv: inv,
		answerTo: req.UserID})
}

// allowlist returns the allowlist in force, or nil when TalkBack is not
// configured (no registry, no executor, or no list loaded).
func (h *Handler) allowlist() *talkback.Allowlist {
	if h.reg == nil || h.exec == nil {
		return nil
	}
	return h.reg.Current()
}

// list answers a bare "run" with what this user may run here and now.
func (h *Handler) list(ctx context.Context, req Request, list *talkback.Allowlist, env talkback.Env) error {
	h.metrics.requests.WithLabelValues("listed").Inc()
	text := fmt.Sprintf("What you can run for job %s right now (`@cla run &lt;action&gt; key=value…`):\n\n%s",
		env.Job.ID, escape(talkback.HelpList(list.Available(env))))
	return h.tell(ctx, req.ChannelID, req.UserID, text)
}

// refuseErr answers a refusal (or an internal error) and records the
// refused request in the job log.
func (h *Handler) refuseErr(ctx context.Context, req Request, job *jobs.Job, text string, err error) error {
	r, ok := talkback.IsRefusal(err)
	if !ok {
		_ = h.refuse(ctx, req, nil, "Sorry, something went wrong on cla's side; nothing was run.")
		return fmt.Errorf("prepare talkback request: %w", err)
	}
	return h.refuse(ctx, req, &refusedRequest{job: job, text: text}, r.Reason)
}

// refusedRequest is what the job log records about a refused request.
type refusedRequest struct {
	job  *jobs.Job
	text string
}

// refuse tells the requester why nothing ran, and logs it on the job when
// there is one.
func (h *Handler) refuse(ctx context.Context, req Request, rr *refusedRequest, reason string) error {
	h.metrics.requests.WithLabelValues("refused").Inc()
	if rr != nil {
		who := h.user(ctx, req.UserID)
		h.appendLog(ctx, rr.job.ID, jobs.LogEntry{Kind: jobs.LogTalkBack, Actor: who.Name, Via: jobs.ViaSlack,
			Text:   fmt.Sprintf("refused `run %s`: %s", rr.text, reason),
			Fields: map[string]string{"requester": who.Name, "verdict": "refused", "request": rr.text}})
	}
	return h.tell(ctx, req.ChannelID, req.UserID, "⚠️ Nothing was run: "+escape(reason))
}

// tell shows one person a message in a channel (ephemeral).
func (h *Handler) tell(ctx context.Context, channel, user, text string) error {
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, err := h.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false))
		return err
	})
	if err != nil {
		h.log.Warn("ephemeral answer not delivered", "channel", channel, "user", user, "err", err)
		return fmt.Errorf("chat.postEphemeral: %w", err)
	}
	return nil
}

// appendLog writes entries to the job log; a failure is logged, because
// the chat answer matters more than the audit line that failed.
func (h *Handler) appendLog(ctx context.Context, jobID string, entries ...jobs.LogEntry) {
	if _, err := h.svc.AppendLog(ctx, jobID, entries); err != nil {
		h.log.Error("talkback log append failed", "job", jobID, "err", err)
	}
}

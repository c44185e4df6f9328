// Package gates is cla's Slack side of gates: the jobs.Notifier that
// announces gates and keeps every announcement up to date, and the handlers
// of button clicks, modal submissions, the /manual-action command and the
// App Home.
//
// Handlers take plain structs (Click, Submission, Command), so the Socket
// Mode loop stays a thin translator, and every change they make goes
// through the same jobs.Service method the HTTP API calls, with
// jobs.ViaSlack. Nothing here runs unless Slack is configured: without a
// Notifier the outbox settles Slack notifications by itself.
package gates

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Config is what the notifier and the handlers need.
type Config struct {
	// API is a Web API client with the bot token.
	API *slack.Client
	// Service is the one door to jobs.
	Service *jobs.Service
	// Directory maps Slack users to identities; nil means no configured
	// identities (everyone acts as slack:<U…>).
	Directory *jobs.Directory
	// PublicURL prefixes the View button's /jobs/<id> link.
	PublicURL string
	// Logger receives logs with component=gates; nil discards them.
	Logger *slog.Logger
	// People maps Slack users to identities and back. Share the bot's
	// (bot.Bot.People) so every Slack handler sees the same groups and
	// one cache; nil builds one from API and Directory.
	People *people.Resolver
}

// core is shared by the Notifier and the Handler.
type core struct {
	api    *slack.Client
	svc    *jobs.Service
	dir    *jobs.Directory
	url    string
	log    *slog.Logger
	people *people.Resolver
}

// rewrites serialize announcement rewrites per job across every Notifier
// and Handler of the process (they may be built separately).
var rewrites [64]sync.Mutex

// stripe picks the lock of a job id.
func stripe(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % 64)
}

func newCore(cfg Config) *core {
	if cfg.Directory == nil {
		cfg.Directory = jobs.NewDirectory(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.People == nil {
		cfg.People = people.New(cfg.API, cfg.Directory, cfg.Logger)
	}
	lg := cfg.Logger.With("component", "gates")
	return &core{api: cfg.API, svc: cfg.Service, dir: cfg.Directory, url: cfg.PublicURL, log: lg, people: cfg.People}
}

// view gathers what a gate message shows: Slack ids for every person it
// names and the late attempts from the job log.
func (c *core) view(ctx context.Context, job *jobs.Job, g *jobs.Gate) blocks.GateView {
	v := blocks.GateView{Job: job, Gate: g, Now: c.svc.Now(), PublicURL: c.url}
	if g.State == jobs.GateClosed {
		v.Attempts = c.attempts(ctx, job.ID, g.ID)
	}
	names := append([]string(nil), g.AllAssignees()...)
	for _, a := range g.Approvals {
		names = append(names, a.By)
	}
	if g.ResolvedBy != nil {
		names = append(names, *g.ResolvedBy)
	}
	for _, a := range v.Attempts {
		names = append(names, a.By)
	}
	v.SlackIDs = c.people.SlackIDs(ctx, names)
	return v
}

// attempts reads the late attempts on a closed gate from the job log.
func (c *core) attempts(ctx context.Context, jobID, gateID string) []blocks.Attempt {
	var out []blocks.Attempt
	var after uint64
	for {
		entries, err := c.svc.Log(ctx, jobID, after, 1000)
		if err != nil {
			c.log.Warn("read job log for late attempts", "job", jobID, "err", err)
			return out
		}
		for _, e := range entries {
			if a := e.Fields["attempt"]; a != "" && e.Gate == gateID {
				out = append(out, blocks.Attempt{By: e.Actor, Action: a, Via: e.Via, At: e.At})
			}
			after = e.Seq
		}
		if len(entries) < 1000 {
			return out
		}
	}
}

// update rewrites every announcement of a gate with its current state.
// Rewrites of one job are serialized and render what the store holds at
// that moment, so a slower rewrite of an older state can never land last.
// Messages that are gone (deleted, channel archived) are skipped; a rate
// limit or an outage is returned for a retry.
func (c *core) update(ctx context.Context, job *jobs.Job, g *jobs.Gate) error {
	mu := &rewrites[stripe(job.ID)]
	mu.Lock()
	defer mu.Unlock()
	if fresh, err := c.svc.GetJob(ctx, job.ID); err == nil && fresh.Gate(g.ID) != nil {
		job, g = fresh, fresh.Gate(g.ID)
	}
	if len(g.Messages) == 0 {
		return nil
	}
	v := c.view(ctx, job, g)
	opts := []slack.MsgOption{slack.MsgOptionText(blocks.Text(v), false), slack.MsgOptionBlocks(blocks.Message(v)...)}
	for _, ref := range g.Messages {
		_, _, _, err := c.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, opts...)
		if blockKitRefused(err) { // the announcement fell back to plain text: so does its update
			_, _, _, err = c.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, slack.MsgOptionText(blocks.PlainText(v), false))
		}
		if err == nil {
			continue
		}
		if gone(err) {
			c.log.Info("announcement gone; not updated", "job", job.ID, "gate", g.ID, "channel", ref.Channel, "err", err)
			continue
		}
		return slackError("chat.update", err)
	}
	return nil
}

// slackError turns a Slack client error into what the outbox understands:
// *jobs.RetryAfterError for a 429, a wrapped error for anything else.
func slackError(method string, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		after := rl.RetryAfter
		if after <= 0 {
			after = time.Second
		}
		return &jobs.RetryAfterError{After: after, Err: &methodError{method, err}}
	}
	return &methodError{method, err}
}

// methodError names the Slack method that failed.
type methodError struct {
	method string
	err    error
}

// Error implements error.
func (e *methodError) Error() string { return "slack " + e.method + ": " + e.err.Error() }

// Unwrap returns the cause.
func (e *methodError) Unwrap() error { return e.err }

// code is Slack's error code ("channel_not_found"), or "".
func code(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// gone reports whether an error means the target no longer exists or can
// never be written: retrying would not help.
func gone(err error) bool {
	switch code(err) {
	case "message_not_found", "channel_not_found", "cant_update_message", "is_archived",
		"edit_window_closed", "thread_not_found":
		return true
	}
	return false
}

// expiredTrigger reports whether views.open refused the trigger_id.
func expiredTrigger(err error) bool {
	switch code(err) {
	case "expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id":
		return true
	}
	return false
}

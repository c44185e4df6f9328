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
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
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
	// UnknownUsers is what Slack users outside Directory may do
	// (slack.unknownUsers; "" is readonly), for the Resolver built when
	// People is nil.
	UnknownUsers people.UnknownUsers
	// Announcer rewrites every announcement; share one between the
	// Notifier and the Handler (NewAnnouncer) so that a change is written
	// once. nil builds one per component (fine when only one is used).
	Announcer *Announcer
	// Budget paces the Web API calls to Slack's rate tiers; nil means the
	// HTTP client's transport (or nobody) paces them.
	Budget *ratelimit.Budget
	// HTTP posts answers to a slash command's response_url; nil uses a
	// client with the Web API's deadlines (ratelimit.NewClient).
	HTTP *http.Client
	// State keeps the App Homes people opened (Handler only), where every
	// replica sees them; nil uses the Service's store, which must then
	// implement jobs.ChatState (both cla stores do).
	State jobs.ChatState
}

// core is shared by the Notifier, the Handler and the Announcer.
type core struct {
	api    *slack.Client
	svc    *jobs.Service
	dir    *jobs.Directory
	url    string
	log    *slog.Logger
	people *people.Resolver
	ann    *Announcer
	http   *http.Client

	selfMu    sync.Mutex
	selfBotID string // this app's bot id, from auth.test once it succeeded
}

// botID is this app's bot id (auth.test, asked once and remembered).
func (c *core) botID(ctx context.Context) (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.selfBotID != "" {
		return c.selfBotID, nil
	}
	res, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return "", slackError("auth.test", err)
	}
	if res.BotID == "" {
		return "", fmt.Errorf("auth.test: the token is not a bot token (no bot_id)")
	}
	c.selfBotID = res.BotID
	return c.selfBotID, nil
}

// rewriteLocks serialize announcement rewrites per job across every Notifier
// and Handler of the process (they may be built separately).
var rewriteLocks [64]sync.Mutex

// stripe picks the lock of a job id.
func stripe(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % 64)
}

// newCore builds the core of a Notifier or Handler, with the shared
// Announcer or a new one.
func newCore(cfg Config) *core {
	c := newCoreOnly(cfg)
	c.ann = cfg.Announcer
	if c.ann == nil {
		c.ann = NewAnnouncer(cfg)
	}
	return c
}

// newCoreOnly builds the parts every component shares.
func newCoreOnly(cfg Config) *core {
	if cfg.Directory == nil {
		cfg.Directory = jobs.NewDirectory(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.People == nil {
		cfg.People = people.New(cfg.API, cfg.Directory, cfg.Logger)
		cfg.People.SetUnknownUsers(cfg.UnknownUsers)
	}
	lg := cfg.Logger.With("component", "gates")
	if cfg.HTTP == nil {
		cfg.HTTP = ratelimit.NewClient(nil, nil)
	}
	return &core{api: cfg.API, svc: cfg.Service, dir: cfg.Directory, url: cfg.PublicURL, log: lg, people: cfg.People,
		http: cfg.HTTP}
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

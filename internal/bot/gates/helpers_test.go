package gates_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/internal/slacktext"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"
)

// Workspace: alice is configured with her Slack id, bob by email only (so
// users.info is needed), carol is not configured at all.
const (
	alice = "U0ALICE"
	bob   = "U0BOB"
	carol = "U0CAROL"
	root  = "U0ROOT"
)

var identities = []jobs.Identity{
	{Name: "alice", Email: "alice@example.com", Slack: alice, Groups: []string{"ops"}},
	{Name: "bob", Email: "bob@example.com", Groups: []string{"ops"}},
	{Name: "ci"},
	{Name: "root", Slack: root, Admin: true},
}

var ci = jobs.Identity{Name: "ci"}

// env is one test's world: a Slack emulator, a real bbolt store and
// service, the notifier and the handler, wired by a tiny socket loop.
type env struct {
	t        *testing.T
	ctx      context.Context
	emu      *slackemu.Emulator
	svc      *jobs.Service
	notifier *gates.Notifier
	handler  *gates.Handler
	// announcer owns the gate messages, as in the server.
	announcer *gates.Announcer
	channel   string
	clock     *clock
}

// clock is a settable service clock (timers are fired by hand).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newEnv(t *testing.T, cfg slackemu.Config) *env {
	t.Helper()
	return newPacedEnv(t, cfg, nil)
}

// newPacedEnv is newEnv whose Web API client draws from budget (nil: not
// paced), as the server's does.
func newPacedEnv(t *testing.T, cfg slackemu.Config, budget *ratelimit.Budget) *env {
	t.Helper()
	return newPolicyEnv(t, cfg, budget, envOptions{policy: people.UnknownAllow})
}

// envOptions are the server settings a test may change.
type envOptions struct {
	policy             people.UnknownUsers // slack.unknownUsers
	restrictUnassigned bool                // the server's default (assignees.anyoneResolvesUnassigned false)
}

// newPolicyEnv is newPacedEnv with other server settings.
func newPolicyEnv(t *testing.T, cfg slackemu.Config, budget *ratelimit.Budget, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	emu := slackemu.NewTest(t, cfg)
	emu.AddUser(slackemu.User{ID: alice, Name: "alice", Email: "alice@example.com"})
	emu.AddUser(slackemu.User{ID: bob, Name: "bob", Email: "bob@example.com"})
	emu.AddUser(slackemu.User{ID: carol, Name: "carol", Email: "carol@example.com"})
	ch := emu.AddChannel(slackemu.Channel{Name: "deploys", Members: []string{emu.BotUserID(), alice, bob, carol}})
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{Now: clk.Now, Limits: jobs.Limits{GatesPerMinute: 100000},
		RestrictUnassigned: o.restrictUnassigned, Markup: slacktext.Markup{}}) // as cla serve wires it
	// Our own transport, so its idle connections can be closed before the
	// emulator shuts down (net/http waits 5 s for connections that never
	// sent a request, such as a dial finished after its request was cancelled).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.AppToken()),
		slack.OptionHTTPClient(ratelimit.NewClient(budget, tr)))
	// These tests are about assignees, who may be Slack users outside the
	// config: they act as under slack.unknownUsers: allow (unknown_test.go
	// covers readonly and deny).
	gcfg := gates.Config{API: api, Service: svc, Directory: jobs.NewDirectory(identities), PublicURL: "https://cla.example",
		Budget: budget, UnknownUsers: o.policy}
	gcfg.Announcer = gates.NewAnnouncer(gcfg)
	e := &env{t: t, ctx: ctx, emu: emu, svc: svc, notifier: gates.NewNotifier(gcfg), handler: gates.NewHandler(gcfg),
		announcer: gcfg.Announcer, channel: ch.ID, clock: clk}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); e.socketLoop(ctx, api) }()
	go func() { defer wg.Done(); _ = e.handler.Run(ctx) }()
	go func() { defer wg.Done(); _ = e.announcer.Run(ctx) }()
	require.NoError(t, emu.WaitConnections(ctx, 1))
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
		_ = db.Close()
	})
	return e
}

// socketLoop is what the bot's router does with our handlers: translate,
// ack first (a submission acks with Submit's answer), then work.
func (e *env) socketLoop(ctx context.Context, api *slack.Client) {
	sm := socketmode.New(api)
	done := make(chan struct{})
	go func() { defer close(done); _ = sm.RunContext(ctx) }()
	var work sync.WaitGroup
	defer func() { work.Wait(); <-done }()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sm.Events:
			e.dispatch(ctx, sm, ev, &work)
		}
	}
}

func (e *env) dispatch(ctx context.Context, sm *socketmode.Client, ev socketmode.Event, work *sync.WaitGroup) {
	if ev.Request == nil {
		return
	}
	later := func(fn func()) { work.Add(1); go func() { defer work.Done(); fn() }() }
	switch data := ev.Data.(type) {
	case slack.InteractionCallback:
		if data.Type == slack.InteractionTypeViewSubmission {
			resp, err := e.handler.Submit(ctx, gates.SubmissionFrom(data))
			e.logErr(err)
			e.ack(sm, ev, resp)
			return
		}
		e.ack(sm, ev, nil)
		for _, c := range gates.ClicksFrom(data) {
			later(func() { e.logErr(e.handler.Click(ctx, c)) })
		}
	case slack.SlashCommand:
		e.ack(sm, ev, nil)
		later(func() {
			cmd := gates.CommandFrom(data)
			reply, err := e.handler.Slash(ctx, cmd)
			if !errors.Is(err, gates.ErrNotHandled) {
				e.logErr(err)
			}
			e.logErr(e.handler.RespondSlash(ctx, cmd, reply))
		})
	case slackevents.EventsAPIEvent:
		e.ack(sm, ev, nil)
		if home, ok := data.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
			later(func() { e.logErr(e.handler.HomeOpened(ctx, home.User)) })
		}
	default:
		e.ack(sm, ev, nil)
	}
}

func (e *env) ack(sm *socketmode.Client, ev socketmode.Event, payload any) {
	if payload == (*slack.ViewSubmissionResponse)(nil) {
		payload = nil
	}
	_ = sm.Ack(*ev.Request, payload)
}

func (e *env) logErr(err error) {
	if err != nil && e.ctx.Err() == nil {
		e.t.Logf("handler: %v", err)
	}
}

// deliver runs the outbox by hand: every due notification goes to the
// notifier (slack) or is settled (other types), as notify.Outbox does.
func (e *env) deliver() {
	e.t.Helper()
	st := e.svc.Store()
	for {
		due, _, err := st.Outbox(e.ctx, e.svc.Now().Add(time.Hour), 100)
		require.NoError(e.t, err)
		if len(due) == 0 {
			return
		}
		for _, n := range due {
			if n.Channel.Type == "slack" {
				job, err := e.svc.GetJob(e.ctx, n.JobID)
				require.NoError(e.t, err)
				err = e.notifier.Notify(e.ctx, n, job)
				var permanent *jobs.PermanentError
				if !errors.As(err, &permanent) {
					require.NoError(e.t, err, n.ID)
				}
			}
			require.NoError(e.t, st.SettleNotification(e.ctx, n.ID))
		}
	}
}

// open creates a job with a gate announced in the test channel and
// returns the announcement.
func (e *env) open(id string, cfg jobs.GateConfig) slackemu.Message {
	e.t.Helper()
	_, err := e.svc.CreateJob(e.ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: id, Name: "Deploy " + id,
		Context: map[string]any{"resource": map[string]any{"name": "node-7"}}})
	require.NoError(e.t, err)
	cfg.Channels = append(cfg.Channels, jobs.NotifyChannel{Type: "slack", ChannelID: e.channel})
	_, _, err = e.svc.OpenGate(e.ctx, ci, jobs.ViaAPI, id, cfg)
	require.NoError(e.t, err)
	e.deliver()
	job := e.job(id)
	g := job.OpenGate()
	require.Len(e.t, g.Messages, 1, "announcement recorded")
	m, ok := e.emu.Message(g.Messages[0].Channel, g.Messages[0].TS)
	require.True(e.t, ok)
	return m
}

func (e *env) job(id string) *jobs.Job {
	e.t.Helper()
	job, err := e.svc.GetJob(e.ctx, id)
	require.NoError(e.t, err)
	return job
}

// waitMessage waits until the message matches.
func (e *env) waitMessage(m slackemu.Message, match func(slackemu.Message) bool) slackemu.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	got, err := e.emu.WaitMessage(ctx, m.Channel, func(x slackemu.Message) bool { return x.TS == m.TS && match(x) })
	require.NoError(e.t, err, "message %s never matched; now %s", m.TS, e.current(m).Blocks)
	return got
}

func (e *env) current(m slackemu.Message) slackemu.Message {
	got, _ := e.emu.Message(m.Channel, m.TS)
	return got
}

// waitEphemeral waits for an ephemeral answer to user containing text.
func (e *env) waitEphemeral(user, text string) slackemu.Call {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	c, err := e.emu.WaitCall(ctx, "chat.postEphemeral", func(c slackemu.Call) bool {
		return c.Arg("user") == user && strings.Contains(c.Arg("text"), text)
	})
	require.NoError(e.t, err, "no ephemeral to %s with %q; got %v", user, text, e.emu.Ephemerals(user))
	return c
}

// waitJob waits until the job satisfies cond (clicks are handled after the
// ack, so their effect is observed, not assumed).
func (e *env) waitJob(id string, cond func(*jobs.Job) bool) *jobs.Job {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	for {
		changed, release := e.svc.Broker().Watch(id)
		job := e.job(id)
		if cond(job) {
			release()
			return job
		}
		select {
		case <-changed:
			release()
		case <-ctx.Done():
			release()
			e.t.Fatalf("job %s never reached the expected state; it is %s", id, job.Status)
		}
	}
}

// actionIDs lists the action ids of a message's interactive elements.
func actionIDs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(raw, &bs))
	var out []string
	for _, b := range bs {
		if b.Type == "actions" {
			for _, el := range b.Elements {
				out = append(out, el.ActionID)
			}
		}
	}
	return out
}

// text is every string in a message's blocks, decoded, one per line: what
// assertions on wording look at.
func text(raw json.RawMessage) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

// waitLimit bounds every wait on Slack in these tests: generous, since a
// loaded 2-core machine under -race is slow, and only a failing test waits
// it out.
const waitLimit = 30 * time.Second

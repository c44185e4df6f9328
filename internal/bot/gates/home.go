package gates

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// HomeOpened publishes the person's App Home (app_home_opened) and
// remembers them, so that Run keeps it current while their gates change.
func (h *Handler) HomeOpened(ctx context.Context, userID string) error {
	h.mu.Lock()
	if h.homes[userID] == nil {
		h.homes[userID] = map[string]bool{}
	}
	h.mu.Unlock()
	return h.RefreshHome(ctx, userID)
}

// RefreshHome publishes the open gates waiting on the person, newest
// first, each with its buttons.
func (h *Handler) RefreshHome(ctx context.Context, userID string) error {
	who, err := h.people.Identity(ctx, userID)
	if err != nil {
		return fmt.Errorf("identify %s: %w", userID, err)
	}
	waiting, err := h.svc.WaitingOn(ctx, who, 0)
	if err != nil {
		return fmt.Errorf("gates waiting on %s: %w", who.Name, err)
	}
	shown := map[string]bool{}
	var views []blocks.GateView
	for i, j := range waiting {
		if i == blocks.MaxHomeGates {
			break
		}
		views = append(views, h.view(ctx, j, j.OpenGate()))
		shown[j.ID] = true
	}
	home := blocks.Home(views, len(waiting)-len(views))
	err = ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, err := h.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: home})
		return err
	})
	if err != nil {
		return slackError("views.publish", err)
	}
	h.mu.Lock()
	if _, ok := h.homes[userID]; ok {
		h.homes[userID] = shown
	}
	h.mu.Unlock()
	return nil
}

// refreshHomeOf republishes the home of the person who clicked there.
func (h *Handler) refreshHomeOf(ctx context.Context, c Click) {
	if c.ChannelID != "" {
		return
	}
	if err := h.RefreshHome(ctx, c.UserID); err != nil {
		h.log.Warn("refresh app home", "user", c.UserID, "err", err)
	}
}

// Run follows the service's events until ctx ends: it refreshes the App
// Home of people who opened it when a gate of theirs changes, and rewrites
// announcements for changes that send no notification (a vote short of
// the quorum, a late attempt) made through another door.
func (h *Handler) Run(ctx context.Context) error {
	events, stop := h.svc.Broker().Subscribe(256)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			h.onEvent(ctx, e)
		}
	}
}

// onEvent handles one event; events are hints, so the store is re-read.
// It has a deadline: the Slack client has none, and one hung call would
// otherwise stop every later refresh while events are dropped.
func (h *Handler) onEvent(ctx context.Context, e jobs.Event) {
	if e.Job == nil || e.Type == jobs.EventLogAppended {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.eventTimeout)
	defer cancel()
	if e.Gate != nil && !bySlack(e) {
		if e.Type == jobs.EventGateVoted || e.Type == jobs.EventLateAttempt {
			h.refresh(ctx, e.Job.ID, e.Gate.ID)
		}
	}
	for _, user := range h.homesFor(e.Job) {
		if err := h.RefreshHome(ctx, user); err != nil {
			h.log.Warn("refresh app home", "user", user, "err", err)
		}
	}
}

// bySlack reports whether the change came through Slack, whose handlers
// have already rewritten the announcement.
func bySlack(e jobs.Event) bool {
	if e.Via != "" {
		return e.Via == jobs.ViaSlack
	}
	return len(e.Entries) > 0 && e.Entries[0].Via == jobs.ViaSlack
}

// homesFor lists the remembered homes a job change may alter: those that
// show the job, and those of the open gate's assignees.
func (h *Handler) homesFor(job *jobs.Job) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for user, shown := range h.homes {
		if shown[job.ID] || job.WaitsOn(h.people.Cached(user)) {
			out = append(out, user)
		}
	}
	return out
}

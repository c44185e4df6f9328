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
	h.homes.subscribe(userID)
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
	// The keys are filed before the read, so a change committed after it
	// finds this home and refreshes it again.
	h.mu.Lock()
	h.homes.update(userID, who.AssigneeKeys(), h.homes.shows[userID])
	h.mu.Unlock()
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
	h.homes.update(userID, who.AssigneeKeys(), shown)
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

// Run follows the service's events until ctx ends and refreshes the App
// Home of people who opened it when a gate of theirs changes. When it fell
// behind and events were dropped, it refreshes every remembered home.
// (Announcements are the Announcer's.)
func (h *Handler) Run(ctx context.Context) error {
	sub := h.svc.Broker().Subscribe("slack-home", 256)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-sub.Events:
			h.onEvent(ctx, e)
		case <-sub.Resync:
			h.log.Warn("app home refresher fell behind; refreshing every home", "dropped", sub.Dropped())
			h.refreshAll(ctx)
		}
	}
}

// onEvent handles one event; events are hints, so the store is re-read.
// Only a change to a gate can change an App Home; a chat line, a log
// append or an annotation refreshes nothing. It has a deadline, so one
// hung call cannot stop every later refresh.
func (h *Handler) onEvent(ctx context.Context, e jobs.Event) {
	if e.Job == nil || e.Gate == nil || e.Type == jobs.EventLogAppended {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.eventTimeout)
	defer cancel()
	for _, user := range h.homesFor(e.Job) {
		if err := h.RefreshHome(ctx, user); err != nil {
			h.log.Warn("refresh app home", "user", user, "err", err)
		}
	}
}

// refreshAll republishes every remembered home.
func (h *Handler) refreshAll(ctx context.Context) {
	h.mu.Lock()
	users := make([]string, 0, len(h.homes.shows))
	for u := range h.homes.shows {
		users = append(users, u)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, h.eventTimeout)
	defer cancel()
	for _, u := range users {
		if err := h.RefreshHome(ctx, u); err != nil {
			h.log.Warn("refresh app home", "user", u, "err", err)
		}
	}
}

// homesFor lists the remembered homes a job change may alter: those that
// show the job, and those whose person the open gate waits on. It reads
// two maps by key, so its cost follows the homes concerned, not the
// homes subscribed.
func (h *Handler) homesFor(job *jobs.Job) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.homes.concerned(job.ID, job.WaitingKeys())
}

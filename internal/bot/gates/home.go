package gates

import (
	"context"
	"fmt"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// HomeTTL is how long cla keeps a person's App Home current after they
// last opened it; a home not opened for that long is pruned from the store
// (opening it again publishes it afresh).
const HomeTTL = 7 * 24 * time.Hour

// HomeOpened publishes the person's App Home (app_home_opened) and
// remembers it in the store, so that whichever replica changes one of
// their gates keeps it current.
func (h *Handler) HomeOpened(ctx context.Context, userID string) error {
	if _, err := h.state.PruneHomes(ctx, h.svc.Now()); err != nil {
		h.log.Warn("prune app homes", "err", err)
	}
	return h.refreshHome(ctx, userID, true)
}

// RefreshHome publishes the open gates waiting on the person, newest
// first, each with its buttons.
func (h *Handler) RefreshHome(ctx context.Context, userID string) error {
	return h.refreshHome(ctx, userID, false)
}

// refreshHome publishes a home; opened (re)subscribes it for HomeTTL,
// otherwise only a subscribed home's record is updated.
func (h *Handler) refreshHome(ctx context.Context, userID string, opened bool) error {
	who, err := h.people.Identity(ctx, userID)
	if err != nil {
		return fmt.Errorf("identify %s: %w", userID, err)
	}
	if no := h.people.Refusal(who, people.Read); no != "" {
		return h.publish(ctx, userID, blocks.Refused(no))
	}
	// The keys are filed before the read, so a change committed after it
	// (on any replica) finds this home and refreshes it again.
	keys := who.AssigneeKeys()
	home := jobs.HomeView{User: userID, Keys: keys, Expires: h.svc.Now().Add(HomeTTL)}
	if _, err := h.state.PutHome(ctx, home, opened); err != nil {
		return fmt.Errorf("remember app home of %s: %w", userID, err)
	}
	// One gate more than the home lists: it says "and more" without
	// reading (decoding) every gate waiting on the person.
	waiting, err := h.svc.WaitingOn(ctx, who, blocks.MaxHomeGates+1)
	if err != nil {
		return fmt.Errorf("gates waiting on %s: %w", who.Name, err)
	}
	shown := []string{}
	var views []blocks.GateView
	for i, j := range waiting {
		if i == blocks.MaxHomeGates {
			break
		}
		views = append(views, h.view(ctx, j, j.OpenGate()))
		shown = append(shown, j.ID)
	}
	more := 0
	if len(waiting) > len(views) {
		more = -1 // some more, not counted: counting would read them all
	}
	if err := h.publish(ctx, userID, blocks.Home(views, more)); err != nil {
		return err
	}
	home.Jobs = shown
	if _, err := h.state.PutHome(ctx, home, false); err != nil {
		return fmt.Errorf("remember app home of %s: %w", userID, err)
	}
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
	users, err := h.homesFor(ctx, e.Job)
	if err != nil {
		h.log.Warn("app homes for job", "job", e.Job.ID, "err", err)
		return
	}
	for _, user := range users {
		if err := h.RefreshHome(ctx, user); err != nil {
			h.log.Warn("refresh app home", "user", user, "err", err)
		}
	}
}

// refreshAll republishes every remembered home.
func (h *Handler) refreshAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, h.eventTimeout)
	defer cancel()
	users, err := h.state.HomesFor(ctx, "", nil, h.svc.Now())
	if err != nil {
		h.log.Warn("list app homes", "err", err)
		return
	}
	for _, u := range users {
		if err := h.RefreshHome(ctx, u); err != nil {
			h.log.Warn("refresh app home", "user", u, "err", err)
		}
	}
}

// homesFor lists the remembered homes a job change may alter: those that
// show the job, and those whose person the open gate waits on, whichever
// replica they were opened through. The store reads them by index, so the
// cost follows the homes concerned, not the homes subscribed.
func (h *Handler) homesFor(ctx context.Context, job *jobs.Job) ([]string, error) {
	return h.state.HomesFor(ctx, job.ID, job.WaitingKeys(), h.svc.Now())
}

// publish shows a view on the person's App Home.
func (h *Handler) publish(ctx context.Context, userID string, home slack.HomeTabViewRequest) error {
	err := ratelimit.Retry(ctx, func(ctx context.Context) error {
		_, err := h.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: home})
		return err
	})
	if err != nil {
		return slackError("views.publish", err)
	}
	return nil
}

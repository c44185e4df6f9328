package gates

import (
	"context"
	"fmt"
	"time"

	"github.com/cla-ops/cla/internal/bot/ratelimit"
	"github.com/cla-ops/cla/jobs"
	"github.com/slack-go/slack"
)

// Handler answers what people do in Slack: clicks, modal submissions, the
// /manual-action command and the App Home.
type Handler struct {
	*core

	// eventTimeout bounds the Slack work of one event in Run.
	eventTimeout time.Duration

	// state keeps the App Homes people opened, shared by every replica.
	state jobs.ChatState
}

// eventTimeout is how long Run spends on one event's Slack updates.
const eventTimeout = 30 * time.Second

// NewHandler builds the interaction handlers.
func NewHandler(cfg Config) *Handler {
	state := cfg.State
	if state == nil {
		s, ok := cfg.Service.Store().(jobs.ChatState)
		if !ok {
			panic(fmt.Sprintf("gates: store %T keeps no chat state (jobs.ChatState) and Config.State is nil", cfg.Service.Store()))
		}
		state = s
	}
	return &Handler{core: newCore(cfg), eventTimeout: eventTimeout, state: state}
}

// tell shows a short answer to one person: ephemeral in the channel where
// they acted, or a direct message when there is no channel (App Home).
// Nobody retries it later, so a 429 is waited out here.
func (h *Handler) tell(ctx context.Context, channel, user, text string) {
	err := ratelimit.Retry(ctx, func(ctx context.Context) (err error) {
		if channel == "" {
			_, _, err = h.api.PostMessageContext(ctx, user, slack.MsgOptionText(text, false))
		} else {
			_, err = h.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false))
		}
		return err
	})
	if err != nil {
		h.log.Warn("answer not delivered", "user", user, "channel", channel, "err", err)
	}
}

// failureText is the answer for an error from the domain: its message, or
// a generic text for internal errors, which are logged instead.
func (h *Handler) failureText(err error, what string) string {
	if jobs.ErrorCode(err) == jobs.EINTERNAL {
		h.log.Error(what+" failed", "err", err)
		return "Sorry, something went wrong on cla's side; please try again."
	}
	// Domain messages quote names, ids and words people typed: data.
	if hint := jobs.ErrorHint(err); hint != "" {
		return escape(jobs.ErrorMessage(err)) + "\n💡 " + escape(hint)
	}
	return escape(jobs.ErrorMessage(err))
}

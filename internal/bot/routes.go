package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/bot/talkbot"
)

// submitTimeout bounds a view submission's handling, which answers in the
// ack itself and so must stay well under Slack's 3 s.
const submitTimeout = 2 * time.Second

// UseGates routes buttons, modals, /manual-action and the App Home to the
// gate handlers, and — when tb is not nil — "@cla run", "/manual-action
// run" and the TalkBack confirm buttons to TalkBack. Call it before Run.
func (b *Bot) UseGates(h *gates.Handler, tb *talkbot.Handler) {
	b.SetRoute(KindInteractive, Route{Ack: b.submitAck(h), AckWrites: true, Handle: func(ctx context.Context, in *Incoming) {
		if in.Interaction.Type != slack.InteractionTypeBlockActions {
			return
		}
		for _, c := range gates.ClicksFrom(*in.Interaction) {
			if tb != nil && strings.HasPrefix(c.ActionID, "talkback_") {
				b.logHandler("talkback click", tb.Click(ctx, talkbot.Click{UserID: c.UserID, ChannelID: c.ChannelID,
					MessageTS: c.MessageTS, ActionID: c.ActionID, Value: c.Value}))
				continue
			}
			b.logHandler("click "+c.ActionID, h.Click(ctx, c))
		}
	}})
	b.SetRoute(KindSlashCommand, Route{Handle: func(ctx context.Context, in *Incoming) {
		cmd := gates.CommandFrom(*in.Command)
		reply, err := h.Slash(ctx, cmd)
		if text, ok := talkbot.AfterRun(cmd.Text); errors.Is(err, gates.ErrNotHandled) && ok && tb != nil {
			b.logHandler("talkback", tb.Run(ctx, talkbot.Request{UserID: cmd.UserID, ChannelID: cmd.ChannelID, Text: text}))
			return
		}
		b.logHandler("slash command", err)
		b.logHandler("slash reply", h.RespondSlash(ctx, cmd, reply))
	}})
	b.SetRoute(KindHomeOpened, Route{Handle: func(ctx context.Context, in *Incoming) {
		b.logHandler("app home", h.HomeOpened(ctx, in.User))
	}, Dedupe: true})
	if tb != nil {
		b.AddCommand(CommandSpec{Name: "run", Usage: "run <action> key=value…", Use: people.Read, // TalkBack applies slack.unknownUsers itself
			Help: "run an allowlisted command (TalkBack); alone, lists what you may run here",
			Run: func(ctx context.Context, m *Mention) (Answer, error) {
				text, _ := talkbot.MentionRunText(m.In.Text, b.self.get())
				// TalkBack answers the user itself; its error is only logged.
				b.logHandler("talkback", tb.Run(ctx, talkbot.Request{UserID: m.In.User, ChannelID: m.In.Channel,
					TS: m.In.TS, ThreadTS: m.In.ThreadTS, Text: text}))
				return Answer{}, nil
			}})
	}
}

// submitAck answers a view submission in its ack (validation errors, or
// nothing to close the modal); other interactions get a bare ack.
func (b *Bot) submitAck(h *gates.Handler) func(in *Incoming) any {
	return func(in *Incoming) any {
		if in.Interaction.Type != slack.InteractionTypeViewSubmission {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), submitTimeout)
		defer cancel()
		resp, err := h.Submit(ctx, gates.SubmissionFrom(*in.Interaction))
		b.logHandler("view submission", err)
		if resp == nil {
			return nil // close the modal
		}
		return resp
	}
}

func (b *Bot) logHandler(what string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		b.cfg.Metrics.handlerErrors.Inc()
		b.log.Warn("handler failed", "handler", what, "err", err)
	}
}

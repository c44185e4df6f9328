package bot

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Kind says what an Incoming request is; the router picks a route by it.
type Kind string

// Kinds of incoming requests.
const (
	KindMessage      Kind = "message"         // a message event (new, edit, delete, file share)
	KindMention      Kind = "app_mention"     // "@cla …"
	KindHomeOpened   Kind = "app_home_opened" // a user opened the App Home tab
	KindSlashCommand Kind = "slash_command"   // "/manual-action …"
	KindInteractive  Kind = "interactive"     // buttons, modals
	KindOtherEvent   Kind = "other_event"     // an Events API event nobody routes
)

// Incoming is one Socket Mode request reduced to what handlers need. It is a
// plain value so that handlers can be tested without a socket.
type Incoming struct {
	Kind       Kind
	EnvelopeID string
	EventID    string // Events API event_id; "" for commands and interactions
	Retry      int    // Slack's retry_attempt

	User     string // author; for an edit the author of the new version, for a delete the author of the deleted message
	BotID    string // bot_id when a bot wrote the message
	AppID    string // app_id when an app wrote the message
	OwnApp   string // api_app_id of the envelope: the app receiving it (cla)
	Channel  string
	Text     string
	TS       string // the message's ts (the original message's ts for edits and deletes)
	ThreadTS string
	Subtype  string // message subtype ("", "message_changed", "message_deleted", "file_share", …)
	EditedTS string // for an edit: edited.ts, which tells edits of one message apart
	Files    []File

	Command     *slack.SlashCommand        // KindSlashCommand only
	Interaction *slack.InteractionCallback // KindInteractive only
	Payload     json.RawMessage            // the raw envelope payload, for extensions

	received time.Time // when the bot read it, for the ack-latency metric
}

// File is a file shared in a message, as mirrored into the job log.
type File struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Permalink string `json:"permalink"`
	Mimetype  string `json:"mimetype"`
	// URLPrivateDownload is where the bot token downloads the file.
	URLPrivateDownload string `json:"url_private_download"`
}

// wireEvent is the part of an Events API callback the bot reads.
type wireEvent struct {
	EventID  string `json:"event_id"`
	APIAppID string `json:"api_app_id"`
	Event    struct {
		wireMessage
		Type            string       `json:"type"`
		Subtype         string       `json:"subtype"`
		Channel         string       `json:"channel"`
		DeletedTS       string       `json:"deleted_ts"`
		Message         *wireMessage `json:"message"`
		PreviousMessage *wireMessage `json:"previous_message"`
	} `json:"event"`
}

// wireMessage is a message as Slack sends it, top level or nested.
type wireMessage struct {
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	AppID    string `json:"app_id"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
	Subtype  string `json:"subtype"`
	Edited   *struct {
		User string `json:"user"`
		TS   string `json:"ts"`
	} `json:"edited"`
	Files []File `json:"files"`
}

// parseRequest turns a Socket Mode event into an Incoming; ok is false for
// client-side events (connecting, hello, …) that carry no envelope.
func parseRequest(ev socketmode.Event) (*Incoming, bool, error) {
	req := ev.Request
	if req == nil || req.EnvelopeID == "" {
		return nil, false, nil
	}
	in := &Incoming{EnvelopeID: req.EnvelopeID, Retry: req.RetryAttempt, Payload: req.Payload, received: time.Now()}
	switch ev.Type {
	case socketmode.EventTypeEventsAPI:
		return in, true, parseEvent(in, req.Payload)
	case socketmode.EventTypeSlashCommand:
		cmd, _ := ev.Data.(slack.SlashCommand)
		in.Kind, in.Command = KindSlashCommand, &cmd
		in.User, in.Channel, in.Text = cmd.UserID, cmd.ChannelID, cmd.Text
	case socketmode.EventTypeInteractive:
		cb, _ := ev.Data.(slack.InteractionCallback)
		in.Kind, in.Interaction = KindInteractive, &cb
		in.User, in.Channel = cb.User.ID, cb.Channel.ID
	default:
		in.Kind = KindOtherEvent
	}
	return in, true, nil
}

// parseEvent fills in from an Events API payload.
func parseEvent(in *Incoming, payload json.RawMessage) error {
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		in.Kind = KindOtherEvent
		return fmt.Errorf("decode event: %w", err)
	}
	ev := w.Event
	in.EventID, in.Channel, in.Subtype, in.OwnApp = w.EventID, ev.Channel, ev.Subtype, w.APIAppID
	switch ev.Type {
	case "message":
		in.Kind = KindMessage
	case "app_mention":
		in.Kind = KindMention
	case "app_home_opened":
		in.Kind = KindHomeOpened
	default:
		in.Kind = KindOtherEvent
	}
	msg := ev.wireMessage
	switch ev.Subtype {
	case "message_changed":
		if ev.Message != nil {
			msg = *ev.Message
		}
	case "message_deleted":
		if ev.PreviousMessage != nil {
			msg = *ev.PreviousMessage
		}
		if ev.DeletedTS != "" {
			msg.TS = ev.DeletedTS
		}
	}
	in.setMessage(msg)
	return nil
}

// setMessage copies a message's fields into in.
func (in *Incoming) setMessage(m wireMessage) {
	in.User, in.BotID, in.AppID, in.Text, in.TS, in.ThreadTS, in.Files = m.User, m.BotID, m.AppID, m.Text, m.TS, m.ThreadTS, m.Files
	if m.Edited != nil && in.Subtype == "message_changed" {
		in.EditedTS = m.Edited.TS
	}
}

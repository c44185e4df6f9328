package gates

import (
	"strings"

	"github.com/slack-go/slack"
)

// ClicksFrom turns a block_actions payload into Clicks, one per action,
// so that a socket loop using slack-go needs no knowledge of them.
func ClicksFrom(cb slack.InteractionCallback) []Click {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	ts := cb.Container.MessageTs
	if cb.Container.Type == "view" {
		channel, ts = "", ""
	}
	var out []Click
	for _, a := range cb.ActionCallback.BlockActions {
		c := Click{UserID: cb.User.ID, UserName: cb.User.Name, TeamID: cb.Team.ID, ChannelID: channel,
			MessageTS: ts, ActionID: a.ActionID, BlockID: a.BlockID, Value: a.Value, TriggerID: cb.TriggerID}
		for _, o := range a.SelectedOptions {
			c.SelectedOptions = append(c.SelectedOptions, o.Value)
		}
		out = append(out, c)
	}
	return out
}

// SubmissionFrom turns a view_submission payload into a Submission.
func SubmissionFrom(cb slack.InteractionCallback) Submission {
	s := Submission{UserID: cb.User.ID, CallbackID: cb.View.CallbackID, PrivateMetadata: cb.View.PrivateMetadata,
		TriggerID: cb.TriggerID, Values: map[string]map[string]string{}}
	if cb.View.State == nil {
		return s
	}
	for block, actions := range cb.View.State.Values {
		s.Values[block] = map[string]string{}
		for id, a := range actions {
			s.Values[block][id] = actionValue(a)
		}
	}
	return s
}

// actionValue is an input's value whatever its element type.
func actionValue(a slack.BlockAction) string {
	switch {
	case a.Value != "":
		return a.Value
	case a.SelectedOption.Value != "":
		return a.SelectedOption.Value
	case len(a.SelectedOptions) > 0:
		vals := make([]string, len(a.SelectedOptions))
		for i, o := range a.SelectedOptions {
			vals[i] = o.Value
		}
		return strings.Join(vals, ",")
	}
	return ""
}

// CommandFrom turns a slash command payload into a Command.
func CommandFrom(sc slack.SlashCommand) Command {
	return Command{UserID: sc.UserID, ChannelID: sc.ChannelID, Text: sc.Text, TriggerID: sc.TriggerID,
		ResponseURL: sc.ResponseURL}
}

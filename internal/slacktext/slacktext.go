// Package slacktext converts between Slack's message text format and the
// text people typed. It is the one place that knows Slack's escaping: every
// reader of Slack text (the channel mirror, slash commands, TalkBack)
// decodes with it, and every writer (relayed comments, gate
// announcements, job summaries, TalkBack replies, workflow notifications)
// encodes with it, so that text is escaped exactly once on the way out and
// unescaped exactly once on the way in.
package slacktext

import (
	"fmt"
	"regexp"
	"strings"
)

// escaper and unescaper are one-pass replacers: "&amp;lt;" decodes to
// "&lt;", not "<".
var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// Escape makes plain text safe inside a Slack text field (mrkdwn or not):
// &, < and > are escaped, so the text can form no mention, link or
// broadcast. Formatting characters (*, _, ~, `) are left alone; they are
// harmless and people use them.
func Escape(s string) string { return escaper.Replace(s) }

// Unescape undoes Escape only: &amp; &lt; &gt;. Mentions and links are left
// as they are; Decode reads those.
func Unescape(s string) string { return unescaper.Replace(s) }

// Link is a Slack link to url labelled label, both escaped. A label of ""
// shows the URL itself.
func Link(url, label string) string {
	url = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(url)
	if label == "" {
		return "<" + Escape(url) + ">"
	}
	return "<" + Escape(url) + "|" + strings.ReplaceAll(Escape(label), "|", "¦") + ">"
}

// Names resolves Slack ids to names for Decode. A nil Names, or an empty
// answer, leaves the id in the text.
type Names interface {
	// UserName is the display name of a user id (U…, W…), without "@".
	UserName(id string) string
	// ChannelName is the name of a channel id (C…, G…), without "#".
	ChannelName(id string) string
}

// token matches one Slack control sequence: <…> with no < or > inside.
var token = regexp.MustCompile(`<([^<>]*)>`)

// Decode turns Slack's wire text into what the person typed and sees:
// &amp; &lt; &gt; decoded; <@U…> read as @name; <#C…|name> as #name;
// <!here> as @here; <!subteam^S…|@group> as @group; <url|label> as
// "label (url)" (just the label when it is the URL itself, as when Slack
// links a bare domain); <url> as url.
func Decode(raw string, names Names) string {
	var b strings.Builder
	last := 0
	for _, m := range token.FindAllStringSubmatchIndex(raw, -1) {
		b.WriteString(Unescape(raw[last:m[0]]))
		b.WriteString(decodeToken(raw[m[2]:m[3]], names))
		last = m[1]
	}
	b.WriteString(Unescape(raw[last:]))
	return b.String()
}

// decodeToken reads the inside of one <…>.
func decodeToken(in string, names Names) string {
	target, label, hasLabel := strings.Cut(in, "|")
	label = Unescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		id := target[1:]
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return "@" + lookup(id, names, true)
	case strings.HasPrefix(target, "#"):
		id := target[1:]
		if hasLabel && label != "" {
			return "#" + strings.TrimPrefix(label, "#")
		}
		return "#" + lookup(id, names, false)
	case strings.HasPrefix(target, "!"):
		return special(target[1:], label, hasLabel)
	}
	url := Unescape(target)
	if !hasLabel || label == "" || label == url || label == bare(url) || label == schemeless(url) {
		if hasLabel && label != "" {
			return label
		}
		return bare(url)
	}
	return label + " (" + url + ")"
}

// special reads <!here>, <!channel>, <!everyone>, <!subteam^S…|@handle>
// and <!date^…|fallback>.
func special(target, label string, hasLabel bool) string {
	if hasLabel && label != "" {
		if strings.HasPrefix(target, "subteam^") && !strings.HasPrefix(label, "@") {
			return "@" + label
		}
		return label
	}
	name, _, _ := strings.Cut(target, "^")
	if name == "subteam" {
		return "@" + strings.TrimPrefix(target, "subteam^")
	}
	return "@" + name
}

// bare drops "mailto:" from a mail link; other URLs are kept whole.
func bare(url string) string { return strings.TrimPrefix(url, "mailto:") }

// schemeless is url without http:// or https:// and a trailing slash, the
// way Slack labels a link it made from a bare domain.
func schemeless(url string) string {
	for _, p := range []string{"https://", "http://"} {
		url = strings.TrimPrefix(url, p)
	}
	return strings.TrimSuffix(url, "/")
}

func lookup(id string, names Names, user bool) string {
	if names == nil {
		return id
	}
	var n string
	if user {
		n = names.UserName(id)
	} else {
		n = names.ChannelName(id)
	}
	if n == "" {
		return id
	}
	return n
}

// MentionedUsers lists the user ids mentioned in wire text, in order,
// without repeats.
func MentionedUsers(raw string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range token.FindAllStringSubmatch(raw, -1) {
		target, _, _ := strings.Cut(m[1], "|")
		if id, ok := strings.CutPrefix(target, "@"); ok && id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// valueInTarget percent-encodes what would end a token's target or start
// its label, and escapes &, so a value inside "<…" stays one URL or id.
var valueInTarget = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "%0A")

// EscapeValue makes value data inside Slack text that someone else wrote
// (a gate description template's literal text may hold Slack markup; the
// values it prints may not), given the text written before it. Outside a
// <…> token it is Escape. Inside a token's target, as in
// "<{[.url]}|Runbook>", the value cannot close the token, start the label
// or turn it into a mention or broadcast: <, >, |, spaces are
// percent-encoded, & is escaped, and a leading !, @ or # is percent-encoded
// when the value starts the token. Inside a label it is Escape.
func EscapeValue(before, value string) string {
	open := strings.LastIndexByte(before, '<')
	if open < 0 || open < strings.LastIndexByte(before, '>') {
		return Escape(value)
	}
	tok := before[open+1:]
	if strings.Contains(tok, "|") {
		return Escape(value)
	}
	v := valueInTarget.Replace(value)
	if tok == "" && v != "" {
		switch v[0] {
		case '!':
			v = "%21" + v[1:]
		case '@':
			v = "%40" + v[1:]
		case '#':
			v = "%23" + v[1:]
		}
	}
	return v
}

// broadcastNames are the specials that notify a whole channel.
var broadcastNames = map[string]bool{"channel": true, "here": true, "everyone": true}

// Broadcasts lists the mentions in wire text that notify everyone in a
// channel (<!channel>, <!here>, <!everyone>, with or without a label), in
// order: what a gate description may only say when the config allows it.
func Broadcasts(raw string) []string {
	var out []string
	for _, m := range token.FindAllStringSubmatch(raw, -1) {
		target, _, _ := strings.Cut(m[1], "|")
		name, _, _ := strings.Cut(strings.TrimPrefix(target, "!"), "^")
		if strings.HasPrefix(target, "!") && broadcastNames[strings.ToLower(name)] {
			out = append(out, m[0])
		}
	}
	return out
}

// Markup is Slack's text format as the jobs service sees it when it
// renders a gate description (jobs.Markup): values printed by the
// template are escaped with EscapeValue, and the rendered text may
// broadcast only when AllowBroadcasts is set (slack.allowBroadcastMentions).
type Markup struct {
	AllowBroadcasts bool
}

// EscapeValue is the package's EscapeValue.
func (Markup) EscapeValue(before, value string) string { return EscapeValue(before, value) }

// Check refuses rendered text that would notify a whole channel, unless
// broadcasts are allowed; the error names the mention and the config key.
func (m Markup) Check(rendered string) error {
	if m.AllowBroadcasts {
		return nil
	}
	if b := Broadcasts(rendered); len(b) > 0 {
		return fmt.Errorf("%s would notify everyone in the channel; broadcast mentions are refused unless "+
			"slack.allowBroadcastMentions is true in the server config", b[0])
	}
	return nil
}

package bot

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is a parsed "@cla <verb> <args…>" mention.
type Command struct {
	// Name is the verb in lower case ("add", "note"); "" for a bare mention.
	Name string
	// Args are the words after the verb: quotes removed, Slack references
	// made readable ("<#C1|job-x>" is "#job-x", "<@U1>" is "@U1").
	Args []Arg
	// Text is everything after the verb as one readable string, for free
	// text such as a note or a resolution message.
	Text string
}

// Arg is one word of a command.
type Arg struct {
	Text    string // the word as the person meant it
	Channel string // channel id of a "<#C…>" reference
	User    string // user id of a "<@U…>" reference
}

// ChannelName returns the channel name an argument refers to ("#job-x" or
// "<#C…|job-x>"), and whether it is a channel reference at all.
func (a Arg) ChannelName() (string, bool) {
	if a.Channel == "" && !strings.HasPrefix(a.Text, "#") {
		return "", false
	}
	name := strings.TrimPrefix(a.Text, "#")
	if name == a.Channel {
		name = ""
	}
	return name, true
}

// ErrNotMentioned is returned when the text does not mention the bot.
var ErrNotMentioned = errors.New("the bot is not mentioned")

// ParseMention parses the command that follows the bot's mention in a
// message. It is a pure function so that it can be fuzzed; it understands
// Slack's "<@U…>", "<#C…|name>", "<#C…>", "<!subteam^S…|@h>" and link
// references, HTML entities, repeated spaces and "quoted words". An empty
// botUserID accepts the first user mention as the bot's.
func ParseMention(text, botUserID string) (Command, error) {
	rest, ok := afterMention(text, botUserID)
	if !ok {
		return Command{}, ErrNotMentioned
	}
	rest = strings.TrimLeft(rest, " \t\r\n:,")
	words := splitWords(rest)
	if len(words) == 0 {
		return Command{}, nil
	}
	cmd := Command{Name: strings.ToLower(words[0].Text)}
	for _, w := range words[1:] {
		cmd.Args = append(cmd.Args, w.Arg)
	}
	if idx := words[0].end; idx < len(rest) {
		cmd.Text = strings.TrimSpace(readable(rest[idx:]))
	}
	return cmd, nil
}

// afterMention returns the text after the first mention of the bot
// ("<@U…>" or "<@U…|name>"); with no bot id, after the first user mention.
func afterMention(text, botUserID string) (string, bool) {
	needle := "<@" + botUserID
	for i := 0; i < len(text); {
		j := strings.Index(text[i:], needle)
		if j < 0 {
			return "", false
		}
		k := i + j + len(needle)
		if botUserID == "" || (k < len(text) && text[k] == '|') {
			if end := strings.IndexByte(text[k:], '>'); end >= 0 {
				return text[k+end+1:], true
			}
			return "", false
		}
		if k < len(text) && text[k] == '>' {
			return text[k+1:], true
		}
		i = k
	}
	return "", false
}

// word is an Arg with where it ends in the text it came from.
type word struct {
	Arg
	end int
}

// splitWords splits text into words on spaces, honouring quotes.
func splitWords(s string) []word {
	var out []word
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		w, next := scanWord(s, i)
		out = append(out, word{Arg: w, end: next})
		i = next
	}
	return out
}

// scanWord reads one word starting at i: a quoted string, a Slack
// reference, or a run of non-space characters.
func scanWord(s string, i int) (Arg, int) {
	if q, size := openQuote(s[i:]); q != "" {
		body := s[i+size:]
		if end := strings.Index(body, q); end >= 0 {
			return Arg{Text: decodeEntities(body[:end])}, i + size + end + len(q)
		}
		return Arg{Text: decodeEntities(body)}, len(s)
	}
	if s[i] == '<' {
		if end := strings.IndexByte(s[i:], '>'); end > 0 && !strings.Contains(s[i+1:i+end], "<") {
			return reference(s[i+1 : i+end]), i + end + 1
		}
	}
	end := i
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if unicode.IsSpace(r) {
			break
		}
		end += size
	}
	return Arg{Text: readable(s[i:end])}, end
}

// openQuote reports the closing quote for a quote opening s, and the
// opening quote's byte size.
func openQuote(s string) (string, int) {
	switch {
	case strings.HasPrefix(s, `"`):
		return `"`, 1
	case strings.HasPrefix(s, "'"):
		return "'", 1
	case strings.HasPrefix(s, "“"):
		return "”", len("“")
	case strings.HasPrefix(s, "‘"):
		return "’", len("‘")
	}
	return "", 0
}

// reference makes one "<…>" Slack reference readable.
func reference(body string) Arg {
	id, label, hasLabel := strings.Cut(body, "|")
	switch {
	case strings.HasPrefix(id, "#"):
		if hasLabel && label != "" {
			return Arg{Text: "#" + decodeEntities(label), Channel: id[1:]}
		}
		return Arg{Text: id, Channel: id[1:]}
	case strings.HasPrefix(id, "@"):
		return Arg{Text: id, User: id[1:]}
	case strings.HasPrefix(id, "!subteam^"):
		if hasLabel && label != "" {
			return Arg{Text: decodeEntities(label)}
		}
		return Arg{Text: "@" + strings.TrimPrefix(id, "!subteam^")}
	case strings.HasPrefix(id, "!"):
		if hasLabel && label != "" {
			return Arg{Text: decodeEntities(label)}
		}
		return Arg{Text: "@" + id[1:]}
	}
	return Arg{Text: decodeEntities(id)}
}

// readable renders Slack-formatted text as a person reads it: references
// replaced by their readable form, entities decoded.
func readable(s string) string {
	var b strings.Builder
	for {
		start := strings.IndexByte(s, '<')
		if start < 0 {
			break
		}
		end := strings.IndexByte(s[start:], '>')
		if end < 0 {
			break
		}
		b.WriteString(decodeEntities(s[:start]))
		b.WriteString(reference(s[start+1 : start+end]).Text)
		s = s[start+end+1:]
	}
	b.WriteString(decodeEntities(s))
	return b.String()
}

// decodeEntities undoes Slack's escaping of &, < and >.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entityReplacer.Replace(s)
}

var entityReplacer = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

package talkbot

import (
	"github.com/cla-ops/cla/internal/slacktext"

	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxReplyOutput is how many characters of output the channel reply shows
// inside its code block; Slack renders up to ~3000 in one section, and the
// full output is in the job log.
const MaxReplyOutput = 2900

// linkRE matches a Slack auto-link: <scheme:target> or <scheme:target|label>.
// User, channel and special mentions (<@U…>, <#C…>, <!here>) have no
// scheme and are left alone.
var linkRE = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^<>|]*)(?:\|([^<>]*))?>`)

// unescaper undoes Slack's message escaping in one pass, so "&amp;lt;"
// becomes "&lt;" and not "<".
var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// cleanText turns Slack's wire text back into what the person typed: auto-
// links become their label (or their target, without "mailto:"), then the
// &amp; &lt; &gt; escapes are undone. Links are replaced first because a
// typed "<" arrives as "&lt;" and can never open a link.
func cleanText(s string) string {
	s = linkRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := linkRE.FindStringSubmatch(m)
		if sub[2] != "" {
			return sub[2]
		}
		return strings.TrimPrefix(sub[1], "mailto:")
	})
	return unescaper.Replace(s)
}

// escape prepares user- or command-controlled text for a Slack message:
// no mentions, no links.
func escape(s string) string { return slacktext.Escape(s) }

// codeBlock wraps text in a Slack code block. Text is escaped and any
// ``` inside is broken with a zero-width space so it cannot close the block.
func codeBlock(text string) string {
	text = strings.ReplaceAll(escape(text), "```", "`\u200b``")
	return "```" + text + "```"
}

// inlineCode wraps a short text (a command line) in backticks.
func inlineCode(text string) string {
	text = strings.ReplaceAll(escape(text), "`", "'")
	return "`" + text + "`"
}

// clipOutput returns the longest prefix of out whose escaped form fits in
// limit characters, cut on a rune (and line, when one is near) boundary,
// and how many bytes were left out.
func clipOutput(out string, limit int) (string, int) {
	n, i := 0, 0
	for i < len(out) {
		r, size := utf8.DecodeRuneInString(out[i:])
		w := 1
		switch r {
		case '&':
			w = 5
		case '<', '>':
			w = 4
		}
		if n+w > limit {
			break
		}
		n += w
		i += size
	}
	if i == len(out) {
		return out, 0
	}
	if nl := strings.LastIndexByte(out[:i], '\n'); nl > i-200 && nl > 0 {
		i = nl + 1
	}
	return out[:i], len(out) - i
}

// replyOutput is the code block of a result reply: at most MaxReplyOutput
// characters of output, with a line saying where the rest is.
func replyOutput(out string, annotated bool) string {
	if strings.TrimSpace(out) == "" {
		return "_(no output)_"
	}
	reserve := 100 // room for the note and ``` markers within the limit
	shown, rest := clipOutput(out, MaxReplyOutput-reserve)
	block := codeBlock(strings.TrimRight(shown, "\n"))
	if rest > 0 {
		where := "the job log"
		if annotated {
			where = "the job log and its log annotation"
		}
		block += fmt.Sprintf("\n_output truncated: %d more bytes in %s_", rest, where)
	}
	return block
}

// MentionRunText returns the raw Slack text after "<@bot> run" in a
// mention, ready for Request.Text, and whether the mention is a run
// command. Routers should use it rather than a parsed, already unescaped
// command text, so that escapes are undone exactly once.
func MentionRunText(text, botUserID string) (string, bool) {
	needle := "<@" + botUserID
	i := strings.Index(text, needle)
	if i < 0 || botUserID == "" {
		return "", false
	}
	rest := text[i+len(needle):]
	end := strings.IndexByte(rest, '>')
	if end < 0 || (end > 0 && rest[0] != '|') {
		return "", false
	}
	return AfterRun(strings.TrimLeft(rest[end+1:], " \t\r\n:,"))
}

// AfterRun strips the verb from "run <action> key=value…" (the text of a
// "/manual-action run …" slash command, or a mention's command) and reports
// whether the verb was "run".
func AfterRun(text string) (string, bool) {
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	verb, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		verb, rest = text[:i], text[i:]
	}
	if !strings.EqualFold(verb, "run") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

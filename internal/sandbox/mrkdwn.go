package sandbox

import (
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"
)

// names resolves the ids that Slack entities carry to what a person
// sees: user and channel names, user-group handles.
type names interface {
	userName(id string) string
	channelName(id string) string
	groupHandle(id string) string
}

// slackUnescape undoes the three escapes Slack applies to message text;
// everything else is literal text.
var slackUnescape = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// mrkdwn renders Slack mrkdwn as HTML safely: every piece of text is
// HTML-escaped first, and only then are the few formats Slack knows
// applied (bold, italic, strike, code, pre, quotes, links and mentions).
// No HTML from a message ever reaches the page; links must be http(s) or
// mailto.
func mrkdwn(s string, n names) template.HTML {
	var b strings.Builder
	parts := strings.Split(s, "```")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString(`<pre class="sk-pre">`)
			b.WriteString(html.EscapeString(strings.Trim(slackUnescape.Replace(p), "\n")))
			b.WriteString(`</pre>`)
			continue
		}
		if i%2 == 1 { // an unclosed ``` is text
			p = "```" + p
		}
		b.WriteString(lines(p, n))
	}
	return template.HTML(b.String()) // #nosec G203 -- built from escaped text only
}

// lines renders quotes ("> ") and line breaks around inline formatting.
func lines(s string, n names) string {
	var b strings.Builder
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		if q, ok := strings.CutPrefix(l, "&gt; "); ok || l == "&gt;" {
			b.WriteString(`<span class="sk-quote">` + inline(q, n) + `</span>`)
			continue
		}
		b.WriteString(inline(l, n))
		if i < len(ls)-1 {
			b.WriteString("<br>")
		}
	}
	return b.String()
}

// entity matches a Slack entity in wire text: <@U…>, <#C…|name>, <!here>,
// <url|label>.
var entity = regexp.MustCompile(`<([^<>\s][^<>]*)>`)

// inline renders one line: code spans, entities, then emphasis. Rendered
// pieces are held as placeholders (NUL-delimited numbers, which escaped
// text cannot contain) while emphasis is applied to the escaped text.
func inline(s string, n names) string {
	var held []string
	hold := func(h string) string {
		held = append(held, h)
		return "\x00" + strconv.Itoa(len(held)-1) + "\x00"
	}
	s = strings.ReplaceAll(s, "\x00", "")
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '`')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(s[i+1:], '`')
		}
		if i < 0 || j <= 0 {
			b.WriteString(entities(s, n, hold))
			break
		}
		b.WriteString(entities(s[:i], n, hold))
		b.WriteString(hold(`<code>` + html.EscapeString(slackUnescape.Replace(s[i+1:i+1+j])) + `</code>`))
		s = s[i+j+2:]
	}
	out := emphasis(b.String())
	for k, h := range held {
		out = strings.Replace(out, "\x00"+strconv.Itoa(k)+"\x00", h, 1)
	}
	return out
}

// entities escapes text and turns entities into held HTML.
func entities(s string, n names, hold func(string) string) string {
	var b strings.Builder
	for {
		loc := entity.FindStringSubmatchIndex(s)
		if loc == nil {
			b.WriteString(html.EscapeString(slackUnescape.Replace(s)))
			return b.String()
		}
		b.WriteString(html.EscapeString(slackUnescape.Replace(s[:loc[0]])))
		b.WriteString(hold(renderEntity(s[loc[2]:loc[3]], n)))
		s = s[loc[1]:]
	}
}

// renderEntity renders the inside of one <…> entity.
func renderEntity(in string, n names) string {
	ref, label, hasLabel := strings.Cut(in, "|")
	esc := func(s string) string { return html.EscapeString(slackUnescape.Replace(s)) }
	switch {
	case strings.HasPrefix(ref, "@U") || strings.HasPrefix(ref, "@W") || strings.HasPrefix(ref, "@B"):
		name := n.userName(ref[1:])
		if hasLabel && name == ref[1:] {
			name = label
		}
		return `<span class="sk-mention">@` + esc(name) + `</span>`
	case strings.HasPrefix(ref, "#C") || strings.HasPrefix(ref, "#G"):
		name := n.channelName(ref[1:])
		if name == "" {
			name = label
		}
		return `<a class="sk-mention" href="/sandbox/c/` + template.URLQueryEscaper(name) + `">#` + esc(name) + `</a>`
	case strings.HasPrefix(ref, "!subteam^"):
		return `<span class="sk-mention">@` + esc(n.groupHandle(strings.TrimPrefix(ref, "!subteam^"))) + `</span>`
	case strings.HasPrefix(ref, "!date^"):
		if hasLabel {
			return esc(label)
		}
		return esc(ref)
	case strings.HasPrefix(ref, "!"):
		return `<span class="sk-mention">@` + esc(ref[1:]) + `</span>`
	}
	url := slackUnescape.Replace(ref)
	if !safeURL(url) {
		return esc("<" + in + ">")
	}
	if !hasLabel {
		label = ref
	}
	return `<a href="` + html.EscapeString(url) + `" target="_blank" rel="noopener noreferrer">` + esc(label) + `</a>`
}

// safeURL admits only links a browser cannot run: http(s) and mailto.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:")
}

// Emphasis runs: the marker must start at a word boundary and hug its
// text, as in Slack.
var (
	boldRE   = regexp.MustCompile(`(^|[^\w*])\*([^*\s](?:[^*]*[^*\s])?)\*`)
	italicRE = regexp.MustCompile(`(^|[^\w_])_([^_\s](?:[^_]*[^_\s])?)_`)
	strikeRE = regexp.MustCompile(`(^|[^\w~])~([^~\s](?:[^~]*[^~\s])?)~`)
)

// emphasis applies *bold*, _italic_ and ~strike~ to escaped text.
func emphasis(s string) string {
	s = boldRE.ReplaceAllString(s, `$1<b>$2</b>`)
	s = italicRE.ReplaceAllString(s, `$1<i>$2</i>`)
	return strikeRE.ReplaceAllString(s, `$1<s>$2</s>`)
}

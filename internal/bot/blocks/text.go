package blocks

import (
	"github.com/cla-ops/cla/internal/slacktext"

	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack limits the builders respect (characters, not bytes).
const (
	maxSectionText = 3000
	maxFieldText   = 2000
	maxHeaderText  = 150
	maxContextText = 2000
	maxButtonText  = 75
	maxOptionText  = 75
	maxMessageText = 3000 // our own cap on the notification fallback text
)

// escape makes user-supplied text safe inside mrkdwn: Slack wants only
// &, < and > escaped.
func escape(s string) string { return slacktext.Escape(s) }

// truncate cuts s to at most n characters, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// split cuts s into pieces of at most n characters, preferring to break at
// a newline, then at a space, so long descriptions stay readable.
func split(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		head := string(r[:n])
		cut := strings.LastIndex(head, "\n")
		if cut < len(head)/2 {
			cut = strings.LastIndex(head, " ")
		}
		if cut < len(head)/2 {
			cut = len(head)
		}
		out = append(out, head[:cut])
		s = strings.TrimLeft(s[cut:], "\n ")
	}
	if strings.TrimSpace(s) != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

func plain(s string) *slack.TextBlockObject {
	if s == "" {
		s = " "
	}
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	if s == "" {
		s = " "
	}
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// stamp is how times read in fallback text: "2026-03-13 14:32 UTC".
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// date renders t with Slack's date formatting, shown in each reader's time
// zone, with a UTC fallback for clients that cannot.
func date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_num} {time}|%s>", t.Unix(), stamp(t))
}

// countdown says how long until a deadline: "23h 59m", "2d 3h", "12m".
func countdown(d time.Duration) string {
	d = d.Truncate(time.Minute)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// deadlineText is the timeout line of an open gate, or "".
func deadlineText(deadline *time.Time, now time.Time) string {
	if deadline == nil {
		return ""
	}
	if !now.Before(*deadline) {
		return "⌛ timeout passed at " + date(*deadline)
	}
	return fmt.Sprintf("⏳ times out in %s (at %s)", countdown(deadline.Sub(now)), date(*deadline))
}

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// Mention renders a person or assignee: "<@U…>" when the Slack user is
// known (from ids, or because the name is a Slack id), else "@name".
func Mention(who string, ids map[string]string) string {
	if id := ids[who]; id != "" {
		return "<@" + id + ">"
	}
	bare := strings.TrimPrefix(strings.TrimPrefix(who, "slack:"), "@")
	if slackUserID.MatchString(bare) {
		return "<@" + bare + ">"
	}
	return "@" + escape(bare)
}

// mentions renders a list of people, "anyone" when empty.
func mentions(who []string, ids map[string]string) string {
	if len(who) == 0 {
		return "anyone"
	}
	out := make([]string, len(who))
	for i, w := range who {
		out[i] = Mention(w, ids)
	}
	return strings.Join(out, ", ")
}

// contextPath digs a string out of the job's dispatch context.
func contextPath(ctx map[string]any, path ...string) string {
	var cur any = ctx
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

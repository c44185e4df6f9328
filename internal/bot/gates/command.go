package gates

import (
	"github.com/cla-ops/cla/internal/slacktext"

	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// Request is a parsed /manual-action command line.
type Request struct {
	// Verb is one of complete, fail, approve, reject, resume, retry, skip,
	// abort, list, show, reassign, help or run.
	Verb string
	// Job is the first argument when it is a well-formed job id; the
	// handler decides whether it names a job or starts the message (in a
	// channel bound to a job, the id may be left out).
	Job string
	// Text is what follows Job (the message or reason); All is everything
	// after the verb, for when Job turns out not to be a job.
	Text, All string
	// Users are reassign's targets: Slack user ids ("U…") for mentions,
	// otherwise the name, group or email as typed (without "@").
	Users []string
	// BreakGlass is the reason after "--break-glass": an admin's recorded
	// override of who may resolve the gate.
	BreakGlass string
}

// verbs a request may carry, with whether they take a job.
var verbs = map[string]bool{
	"complete": true, "fail": true, "approve": true, "reject": true, "resume": true,
	"retry": true, "skip": true, "abort": true, "show": true, "reassign": true,
	"list": false, "help": false, "run": false,
}

// ErrUsage is wrapped by every parse error, whose text says what to type.
var ErrUsage = errors.New("usage")

var (
	userMention  = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
	groupMention = regexp.MustCompile(`^<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>$`)
	mailLink     = regexp.MustCompile(`^<mailto:([^|>]+)(?:\|[^>]*)?>$`)
)

// ParseCommand parses the text after /manual-action. It is pure: whether a
// job exists or a channel is bound is for the caller to decide.
func ParseCommand(text string) (Request, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return Request{Verb: "help"}, nil
	}
	r := Request{Verb: strings.ToLower(words[0])}
	takesJob, ok := verbs[r.Verb]
	if !ok {
		return Request{}, fmt.Errorf("%w: unknown command %q; try `/manual-action help`", ErrUsage, truncateRunes(words[0], 40))
	}
	if r.Verb == "run" || !takesJob {
		r.All = unescape(strings.Join(words[1:], " "))
		return r, nil
	}
	rest := words[1:]
	if i := indexOf(rest, "--break-glass"); i >= 0 {
		if _, acts := actionVerbs[r.Verb]; !acts {
			return Request{}, fmt.Errorf("%w: --break-glass goes with a verb that resolves a gate (complete, approve, resume, …), not %s", ErrUsage, r.Verb)
		}
		r.BreakGlass = unescape(strings.Join(rest[i+1:], " "))
		if strings.TrimSpace(r.BreakGlass) == "" {
			return Request{}, fmt.Errorf("%w: say why: `/manual-action %s <job> --break-glass <reason>`", ErrUsage, r.Verb)
		}
		rest = rest[:i]
	}
	r.All = unescape(strings.Join(rest, " "))
	if len(rest) > 0 && jobs.ValidID(rest[0]) {
		r.Job, rest = rest[0], rest[1:]
	}
	r.Text = unescape(strings.Join(rest, " "))
	if r.Verb == "reassign" {
		return parseReassign(r, rest)
	}
	return r, nil
}

// parseReassign reads the new assignees.
func parseReassign(r Request, words []string) (Request, error) {
	for _, w := range words {
		if u := assignee(w); u != "" {
			r.Users = append(r.Users, u)
		}
	}
	if len(r.Users) == 0 {
		return Request{}, fmt.Errorf("%w: say who to reassign to: `/manual-action reassign <job> @user…`", ErrUsage)
	}
	return r, nil
}

// assignee turns one typed word into an assignee entry.
func assignee(w string) string {
	if m := userMention.FindStringSubmatch(w); m != nil {
		return m[1]
	}
	if m := groupMention.FindStringSubmatch(w); m != nil {
		return strings.TrimSpace(m[1])
	}
	if m := mailLink.FindStringSubmatch(w); m != nil {
		return m[1]
	}
	w = strings.Trim(unescape(w), ",;")
	return strings.TrimPrefix(w, "@")
}

// escape makes a value (a name, a typed word, a domain message) plain
// text in Slack: no mention, link or broadcast.
func escape(s string) string { return slacktext.Escape(s) }

// unescape undoes Slack's &, < and > escaping of typed text.
func unescape(s string) string { return slacktext.Unescape(s) }

// actionVerbs are the verbs that resolve a gate, and so may break glass.
var actionVerbs = map[string]bool{"complete": true, "fail": true, "approve": true, "reject": true,
	"resume": true, "retry": true, "skip": true, "abort": true}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if strings.EqualFold(x, w) || x == "—break-glass" { // Slack turns "--" into an em dash on some clients
			return i
		}
	}
	return -1
}

package people

import (
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// UnknownUsers is what a Slack user who maps to no configured identity
// may do (the config's slack.unknownUsers). Such a user acts as the ad-hoc
// "slack:<U…>" identity.
type UnknownUsers string

// The unknown-user policies.
const (
	// UnknownDeny answers nothing but a refusal: no reads, no acts, and
	// their messages in job channels are not mirrored.
	UnknownDeny UnknownUsers = "deny"
	// UnknownReadOnly (the default) lets them read (help, status, list,
	// show, App Home), talk and be mirrored, and note on a job; not decide
	// (resolve, vote, tick, reassign, bind a channel) nor run TalkBack.
	UnknownReadOnly UnknownUsers = "readonly"
	// UnknownAllow lets them act as "slack:<U…>" like anyone else: the
	// gates' assignees and the TalkBack guards still decide.
	UnknownAllow UnknownUsers = "allow"
)

// ParseUnknownUsers reads a policy name; "" is the default, readonly.
func ParseUnknownUsers(s string) (UnknownUsers, error) {
	switch p := UnknownUsers(s); p {
	case "":
		return UnknownReadOnly, nil
	case UnknownDeny, UnknownReadOnly, UnknownAllow:
		return p, nil
	}
	return "", fmt.Errorf("slack.unknownUsers %q must be deny, readonly or allow", s)
}

// Use is what a Slack request asks of cla, for the unknown-user policy.
type Use int

// The uses, from least to most. The zero Use is taken as Act, so that
// a request nobody classified is held to the strictest rule.
const (
	// Read shows something: help, status, list, show, the App Home.
	Read Use = iota + 1
	// Talk adds words to a job: mirrored messages and "@cla note".
	Talk
	// Act decides or runs: resolving, voting, ticking a checklist,
	// reassigning, binding a channel, TalkBack.
	Act
)

// SetUnknownUsers sets the policy for users who map to no configured
// identity. Call it before the Resolver is shared; the zero policy is
// readonly.
func (r *Resolver) SetUnknownUsers(p UnknownUsers) { r.unknown = p }

// UnknownUsers is the policy in force.
func (r *Resolver) UnknownUsers() UnknownUsers {
	if r.unknown == "" {
		return UnknownReadOnly
	}
	return r.unknown
}

// Known reports whether the identity is a configured one (by Slack id or
// email), as opposed to the ad-hoc "slack:<U…>" one.
func (r *Resolver) Known(id jobs.Identity) bool {
	_, ok := r.dir.ByName(id.Name)
	return ok
}

// Refusal says why the user may not make this use of cla, in words to
// show them with the config key that would allow it; "" when they may.
func (r *Resolver) Refusal(id jobs.Identity, u Use) string {
	if r.Known(id) {
		return ""
	}
	if u == 0 {
		u = Act
	}
	switch r.UnknownUsers() {
	case UnknownAllow:
		return ""
	case UnknownReadOnly:
		if u < Act {
			return ""
		}
		return fmt.Sprintf("You are not a configured cla user (you act as %s), so you may read here but not decide or run anything."+
			"\n💡 An admin can add you under identities: in the server config (with slack: %s or your email), "+
			"or set slack.unknownUsers: allow.", id.Name, id.Slack)
	}
	return fmt.Sprintf("cla answers only configured users, and you are not one (you act as %s)."+
		"\n💡 An admin can add you under identities: in the server config (with slack: %s or your email), "+
		"or set slack.unknownUsers: readonly to let everyone read.", id.Name, id.Slack)
}

// Silenced reports whether what the named actor says in a job channel is
// left out of the job log: under deny, people outside the config are not
// mirrored (under readonly and allow they are).
func (r *Resolver) Silenced(name string) bool {
	if r.UnknownUsers() != UnknownDeny {
		return false
	}
	_, ok := r.dir.ByName(name)
	return !ok
}

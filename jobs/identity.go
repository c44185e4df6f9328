package jobs

import (
	"slices"
	"strings"
)

// Identity is a named actor: a person, a pipeline, or the server itself.
// Adapters map tokens, Slack users and emails to identities.
type Identity struct {
	Name   string   `json:"name"`
	Email  string   `json:"email,omitempty"`
	Slack  string   `json:"slack,omitempty"`
	Groups []string `json:"groups,omitempty"`
	Admin  bool     `json:"admin,omitempty"`
	// ResolveUnassigned lets a non-admin resolve gates that have no
	// assignees (config: identities[].resolveUnassigned).
	ResolveUnassigned bool `json:"resolveUnassigned,omitempty"`
}

// System is the identity of cla itself, used for timer firings.
var System = Identity{Name: "cla"}

// Webhook is the identity recorded for a resolution through a signed
// webhook callback link.
var Webhook = Identity{Name: "webhook"}

// Matches reports whether an assignee entry names this identity: its name,
// one of its groups, its email, its Slack user id (bare or "slack:U…"), or a
// Slack user-group handle the adapter put in Groups.
func (id Identity) Matches(assignee string) bool {
	if id.Is(assignee) {
		return true
	}
	a := strings.TrimPrefix(strings.TrimSpace(assignee), "@")
	if a == "" {
		return false
	}
	for _, g := range id.Groups {
		if a == strings.TrimPrefix(g, "@") {
			return true
		}
	}
	return false
}

// Is reports whether a name given to a person (a job's requester, say)
// names this identity itself: its name, its email in any case, or its
// Slack user id (bare or "slack:U…"); unlike Matches, never a group.
func (id Identity) Is(name string) bool {
	a := strings.TrimPrefix(strings.TrimSpace(name), "@")
	if a == "" {
		return false
	}
	if a == id.Name || (id.Email != "" && strings.EqualFold(a, id.Email)) {
		return true
	}
	return id.Slack != "" && (a == id.Slack || a == "slack:"+id.Slack)
}

// MatchesAny reports whether any assignee names the identity.
func (id Identity) MatchesAny(assignees []string) bool {
	for _, a := range assignees {
		if id.Matches(a) {
			return true
		}
	}
	return false
}

// Directory finds identities by the names other systems give them. It is
// built once from configuration and is safe for concurrent reads.
type Directory struct {
	byName  map[string]Identity
	byEmail map[string]Identity
	bySlack map[string]Identity
	groups  map[string]bool
}

// NewDirectory indexes the configured identities.
func NewDirectory(ids []Identity) *Directory {
	d := &Directory{byName: map[string]Identity{}, byEmail: map[string]Identity{}, bySlack: map[string]Identity{},
		groups: map[string]bool{}}
	for _, id := range ids {
		d.byName[id.Name] = id
		for _, g := range id.Groups {
			d.groups[strings.TrimPrefix(g, "@")] = true
		}
		if id.Email != "" {
			d.byEmail[strings.ToLower(id.Email)] = id
		}
		if id.Slack != "" {
			d.bySlack[id.Slack] = id
		}
	}
	return d
}

// ByName returns the identity with that name.
func (d *Directory) ByName(name string) (Identity, bool) {
	id, ok := d.byName[name]
	return id, ok
}

// ForSlackUser maps a Slack user to an identity: by configured Slack id,
// then by email, else an ad-hoc "slack:<U…>" identity carrying that email.
func (d *Directory) ForSlackUser(userID, email string) Identity {
	if id, ok := d.bySlack[userID]; ok {
		return id
	}
	if id, ok := d.byEmail[strings.ToLower(email)]; ok && email != "" {
		if id.Slack == "" {
			id.Slack = userID
		}
		return id
	}
	return Identity{Name: "slack:" + userID, Email: email, Slack: userID}
}

// All returns every configured identity.
func (d *Directory) All() []Identity {
	out := make([]Identity, 0, len(d.byName))
	for _, id := range d.byName {
		out = append(out, id)
	}
	return out
}

// Knows reports whether an assignee entry names a configured identity (by
// name, email or Slack id) or a group some identity is in.
func (d *Directory) Knows(assignee string) bool {
	a := strings.TrimPrefix(strings.TrimSpace(assignee), "@")
	if _, ok := d.byName[a]; ok {
		return true
	}
	if _, ok := d.byEmail[strings.ToLower(a)]; ok {
		return true
	}
	if _, ok := d.bySlack[strings.TrimPrefix(a, "slack:")]; ok {
		return true
	}
	return d.groups[a]
}

// AssigneeKey is the form under which stores index an assignee entry:
// trimmed, without a leading "@", and lower-cased when it is an email. An
// identity's AssigneeKeys are formed the same way, so a look-up by key
// finds every gate that Matches the identity (and a few the caller
// re-checks with Matches, such as a name differing from an email only
// in case).
func AssigneeKey(assignee string) string {
	a := strings.TrimPrefix(strings.TrimSpace(assignee), "@")
	if strings.Contains(a, "@") {
		return strings.ToLower(a)
	}
	return a
}

// AssigneeKeys lists the keys under which gates assigned to the identity
// are indexed: its name, email, Slack user id (bare and "slack:U…") and
// groups.
func (id Identity) AssigneeKeys() []string {
	var out []string
	add := func(s string) {
		if k := AssigneeKey(s); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	add(id.Name)
	add(id.Email)
	if id.Slack != "" {
		add(id.Slack)
		add("slack:" + id.Slack)
	}
	for _, g := range id.Groups {
		add(g)
	}
	return out
}

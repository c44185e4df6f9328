package talkback

import (
	"sort"
	"strings"
)

// Allowlist is a compiled, immutable allowlist file. It is safe for
// concurrent use; a reload builds a new one (see Registry).
type Allowlist struct {
	Source  string // the file it came from, for logs
	actions []*Action
	byName  map[string]*Action
}

func newAllowlist(source string, actions []*Action) *Allowlist {
	l := &Allowlist{Source: source, actions: actions, byName: make(map[string]*Action, len(actions))}
	for _, a := range actions {
		l.byName[a.Name] = a
	}
	return l
}

// Actions returns every action in file order, for listings and docs.
func (l *Allowlist) Actions() []*Action {
	if l == nil {
		return nil
	}
	return append([]*Action(nil), l.actions...)
}

// Lookup finds an action by its exact name.
func (l *Allowlist) Lookup(name string) (*Action, bool) {
	if l == nil {
		return nil, false
	}
	a, ok := l.byName[name]
	return a, ok
}

// Available lists what this user may run here and now: guards are evaluated
// with empty args. A guard that errors without args is listed with
// NeedsArgs set; a guard that is false is left out.
func (l *Allowlist) Available(env Env) []Availability {
	if l == nil {
		return nil
	}
	var out []Availability
	for _, a := range l.actions {
		e := env
		e.Args = a.emptyArgs()
		ok, err := a.allows(e)
		switch {
		case err != nil:
			out = append(out, Availability{Action: a, NeedsArgs: true})
		case ok:
			out = append(out, Availability{Action: a})
		}
	}
	return out
}

// Availability is one entry of Available.
type Availability struct {
	Action *Action
	// NeedsArgs: the guard could not be decided without arguments, so the
	// action may or may not be allowed once they are given.
	NeedsArgs bool
}

// emptyArgs gives every declared argument its default, as a listing would
// see it before the user typed anything.
func (a *Action) emptyArgs() map[string]string {
	m := make(map[string]string, len(a.Args))
	for name, arg := range a.Args {
		m[name] = arg.Default
	}
	return m
}

// unknownAction refuses a name that is not in the list, suggesting the
// nearest names so a typo costs one retry.
func (l *Allowlist) unknownAction(name string) *Refusal {
	var names []string
	for _, a := range l.Actions() {
		names = append(names, a.Name)
	}
	if near := nearest(name, names, 3); len(near) > 0 {
		return refusef("no action %s; did you mean: %s?", quoteShort(name), strings.Join(near, ", "))
	}
	if len(names) == 0 {
		return refusef("no action %s: no actions are configured", quoteShort(name))
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	return refusef("no action %s; actions are: %s", quoteShort(name), strings.Join(names, ", "))
}

// nearest returns up to n names close to name (edit distance or prefix).
func nearest(name string, names []string, n int) []string {
	type cand struct {
		name string
		dist int
	}
	var cs []cand
	limit := max(2, len([]rune(name))/3)
	for _, c := range names {
		d := editDistance(name, c)
		if d <= limit || (len(name) >= 3 && strings.HasPrefix(c, name)) {
			cs = append(cs, cand{c, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].dist != cs[j].dist {
			return cs[i].dist < cs[j].dist
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

package gates

import "slices"

// homeIndex remembers the App Homes people opened, indexed both ways that
// a change reaches them: by the jobs each home shows and by the assignee
// keys (jobs.Identity.AssigneeKeys) of each home's person. The Handler's
// mutex guards it.
type homeIndex struct {
	shows map[string]map[string]bool // user → job ids shown
	keys  map[string][]string        // user → assignee keys
	byJob map[string]map[string]bool // job id → users showing it
	byKey map[string]map[string]bool // assignee key → users
}

func newHomeIndex() homeIndex {
	return homeIndex{shows: map[string]map[string]bool{}, keys: map[string][]string{},
		byJob: map[string]map[string]bool{}, byKey: map[string]map[string]bool{}}
}

// subscribe remembers that the user opened their home.
func (x *homeIndex) subscribe(user string) {
	if x.shows[user] == nil {
		x.shows[user] = map[string]bool{}
	}
}

// update records what a published home shows and whose it is; a user who
// never opened the home is not remembered.
func (x *homeIndex) update(user string, keys []string, shown map[string]bool) {
	if _, ok := x.shows[user]; !ok {
		return
	}
	for id := range x.shows[user] {
		remove(x.byJob, id, user)
	}
	for _, k := range x.keys[user] {
		remove(x.byKey, k, user)
	}
	x.shows[user], x.keys[user] = shown, slices.Clone(keys)
	for id := range shown {
		add(x.byJob, id, user)
	}
	for _, k := range keys {
		add(x.byKey, k, user)
	}
}

// concerned lists, without repeats, the users whose home shows the job or
// whose keys the job's open gate names.
func (x *homeIndex) concerned(jobID string, waitingKeys []string) []string {
	var out []string
	for user := range x.byJob[jobID] {
		out = append(out, user)
	}
	for _, k := range waitingKeys {
		for user := range x.byKey[k] {
			if !slices.Contains(out, user) {
				out = append(out, user)
			}
		}
	}
	return out
}

func add(m map[string]map[string]bool, k, user string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][user] = true
}

func remove(m map[string]map[string]bool, k, user string) {
	delete(m[k], user)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

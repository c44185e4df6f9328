package talkback

import "time"

// Env is what a guard can see and what a command template can use. It is
// declared here, not borrowed from the jobs package, so that the allowlist
// language stays stable whatever the domain types become.
type Env struct {
	Job     Job               `expr:"job"`
	User    User              `expr:"user"`
	Channel Channel           `expr:"channel"`
	Args    map[string]string `expr:"args"`
	Now     time.Time         `expr:"now"`
}

// Job is the job a command is run against ("job.status" in guards,
// "{{.job.id}}" in templates).
type Job struct {
	ID      string         `expr:"id"`
	Name    string         `expr:"name"`
	Status  string         `expr:"status"`
	Context map[string]any `expr:"context"`
}

// User is the person asking; Groups come from the identity configuration and
// are what guards and confirm rules usually test.
type User struct {
	ID     string   `expr:"id"`
	Email  string   `expr:"email"`
	Name   string   `expr:"name"`
	Groups []string `expr:"groups"`
}

// Channel is where the request was typed, so guards can limit an action to
// job channels or to an ops room.
type Channel struct {
	ID   string `expr:"id"`
	Name string `expr:"name"`
}

// InGroup reports whether the user belongs to any of groups; confirm rules
// and callers share this one definition of membership.
func (u User) InGroup(groups ...string) bool {
	for _, g := range groups {
		for _, have := range u.Groups {
			if g == have {
				return true
			}
		}
	}
	return false
}

// templateFields lists the fields a command template may name under each
// root, so that a typo such as {{.job.stauts}} fails at load time.
var templateFields = map[string][]string{
	"args":    nil, // checked against the action's declared args
	"job":     {"id", "name", "status", "context"},
	"user":    {"id", "email", "name", "groups"},
	"channel": {"id", "name"},
}

// templateData turns env into the map a command template executes over; the
// lowercase keys match the guard language.
func (e Env) templateData(args map[string]string) map[string]any {
	ctx := e.Job.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	return map[string]any{
		"args": args,
		"job": map[string]any{
			"id": e.Job.ID, "name": e.Job.Name, "status": e.Job.Status, "context": ctx,
		},
		"user": map[string]any{
			"id": e.User.ID, "email": e.User.Email, "name": e.User.Name, "groups": e.User.Groups,
		},
		"channel": map[string]any{"id": e.Channel.ID, "name": e.Channel.Name},
	}
}

package talkback

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Invocation is a checked, rendered command, ready for Executor.Run. It is
// what a confirm flow shows and stores while waiting for the second person.
type Invocation struct {
	Action    *Action
	Request   Request
	Args      map[string]string // validated, defaults filled in
	Argv      []string
	Env       []string // KEY=VALUE from the action; the Executor adds PATH
	Dir       string
	Timeout   time.Duration
	MaxOutput int64
	Requester User
}

// NeedsConfirm reports whether a second person must approve before Run.
func (inv *Invocation) NeedsConfirm() bool { return inv.Action.Confirm.Required }

// CommandLine renders Argv for logs and confirm prompts, quoting elements
// that contain spaces or quotes so the boundaries stay visible.
func (inv *Invocation) CommandLine() string {
	parts := make([]string, len(inv.Argv))
	for i, a := range inv.Argv {
		parts[i] = a
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == '"' || r == '\'' || r == '\\' }) {
			parts[i] = strconv.Quote(a)
		}
	}
	return strings.Join(parts, " ")
}

// Prepare turns a parsed request into an Invocation: it validates the args
// (pattern, enum, required, defaults, leading '-'), evaluates the guard with
// them, and only then renders argv. Anything the user can fix is a
// *Refusal; nothing is run here.
func (l *Allowlist) Prepare(req Request, env Env) (*Invocation, error) {
	if l == nil {
		return nil, refusef("TalkBack is not configured on this server")
	}
	a, ok := l.Lookup(req.Action)
	if !ok {
		return nil, l.unknownAction(req.Action)
	}
	args, err := a.validateArgs(req.Args)
	if err != nil {
		return nil, err
	}
	env.Args = args
	allowed, err := a.allows(env)
	if err != nil {
		return nil, refusef("%s is not allowed: its guard could not be decided (%v)", a.Name, err)
	}
	if !allowed {
		return nil, refusef("%s is not allowed here: the guard `%s` is false", a.Name, strings.Join(strings.Fields(a.When), " "))
	}
	argv, err := a.render(env.templateData(args))
	if err != nil {
		return nil, err
	}
	return &Invocation{Action: a, Request: req, Args: args, Argv: argv, Env: a.environ(),
		Dir: a.Workdir, Timeout: a.Timeout, MaxOutput: a.MaxOutput, Requester: env.User}, nil
}

// environ returns the action's variables, sorted for stable logs.
func (a *Action) environ() []string {
	env := make([]string, 0, len(a.Env))
	for k, v := range a.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

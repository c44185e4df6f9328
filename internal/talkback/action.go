package talkback

import (
	"regexp"
	"text/template"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/cla-ops/cla/jobs"
)

// Defaults for optional action fields; they keep a forgotten field from
// meaning "forever" or "unbounded".
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxOutput = 64 << 10
)

// Action is one allowlisted command, compiled: its templates are parsed and
// its guard is type-checked, so Prepare cannot hit a syntax error.
type Action struct {
	Name        string
	Description string
	Command     []string // argv templates, as written
	Args        map[string]*Arg
	When        string // guard expression; empty means always allowed
	Timeout     time.Duration
	Confirm     Confirm
	Env         map[string]string // the only variables besides PATH
	Workdir     string            // absolute after loading; empty: the server's
	MaxOutput   int64             // bytes kept of stdout+stderr
	Line        int               // where the action starts in its file

	nameLine int
	argOrder []string
	refs     [][]string // .job/.user/.channel paths the templates name
	argv     []*template.Template
	limited  []*jobs.LimitedTemplate // argv, rendered within ArgvLimits
	guard    *vm.Program
}

// ArgNames returns the argument names in file order, which is the order help
// texts show them in.
func (a *Action) ArgNames() []string {
	return append([]string(nil), a.argOrder...)
}

// Arg declares one key=value argument. A value must match Pattern (anchored:
// the whole value) or be one of Enum, so nothing unexpected reaches argv.
type Arg struct {
	Name        string
	Description string
	Pattern     string
	Required    bool
	Default     string
	Enum        []string

	re     *regexp.Regexp // ^(?:Pattern)$
	dashOK bool           // Pattern names '-' at its start: "-x" values allowed
}

// Confirm says whether a second person must approve a run before it starts,
// for actions whose blast radius deserves four eyes.
type Confirm struct {
	Required bool
	Groups   []string // when set, the approver must belong to one of them
}

// CanConfirm reports whether approver may confirm a run requested by
// requester: never the requester, and a group member when Groups is set.
func (c Confirm) CanConfirm(requester, approver User) bool {
	if approver.ID == "" || approver.ID == requester.ID {
		return false
	}
	return len(c.Groups) == 0 || approver.InGroup(c.Groups...)
}

package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Step types a workflow may use.
const (
	TypeShell       = "shell"
	TypeSlackNotify = "slack.notify"
	TypeWebhook     = "webhook"
	TypeGate        = "gate"
)

// Workflow is a parsed and validated workflow file. Steps keep the file's
// order; Order is a topological order of them.
type Workflow struct {
	Name  string
	Steps []*Step
	// Hash identifies the file's bytes, so that a state file saved for
	// another version of the workflow is refused.
	Hash string

	byID map[string]*Step
}

// Step is one node of the workflow DAG.
type Step struct {
	ID        string
	Type      string
	Config    map[string]any
	DependsOn []string
	Pause     bool
	Trap      *Trap
	If        string
	Timeout   time.Duration
	Retries   int
	// Line is where the step starts in the file, for messages.
	Line int

	cond *vm.Program
}

// Trap says what to do when the step fails for good: open a trap gate and
// follow the decision (retry, skip, abort); Default applies when the gate
// times out after Timeout.
type Trap struct {
	Timeout time.Duration
	Default string
}

// Step returns the step with the given id, or nil.
func (w *Workflow) Step(id string) *Step { return w.byID[id] }

// ParseError is a problem in a workflow file, located by line (1-based; 0
// when the problem concerns the whole file).
type ParseError struct {
	File string
	Line int
	Msg  string
}

// Error implements error as "file:line: message".
func (e *ParseError) Error() string {
	file := e.File
	if file == "" {
		file = "workflow"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Msg)
	}
	return file + ": " + e.Msg
}

// ParseErrors are all the mistakes found in one workflow file, in line
// order. errors.As finds the first *ParseError in it.
type ParseErrors []*ParseError

// Error implements error: one "file:line: message" per line.
func (es ParseErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is see each mistake.
func (es ParseErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders the mistakes by line (stable: same line keeps the order
// they were found in) and drops exact repeats.
func (es ParseErrors) sorted() ParseErrors {
	out := append(ParseErrors(nil), es...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	seen := map[ParseError]bool{}
	uniq := out[:0]
	for _, e := range out {
		if !seen[*e] {
			seen[*e] = true
			uniq = append(uniq, e)
		}
	}
	return uniq
}

var (
	stepIDPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,62}$`)
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
)

func fileHash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// slug turns a workflow name into a job id fragment.
func slug(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-._")
}

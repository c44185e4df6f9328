package talkback

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/cla-ops/cla/jobs"
)

// templateErrRE strips text/template's "template: name:line:col: " prefix,
// which only repeats what the ConfigError already says.
var templateErrRE = regexp.MustCompile(`^template: [^:]*:(\d+:)?(\d+:)? ?(executing "[^"]*" at )?`)

func cleanTemplateErr(err error) error {
	return errors.New(templateErrRE.ReplaceAllString(err.Error(), ""))
}

// compileArgv parses one argv element and checks every field it names:
// .args.X must be declared, .job/.user/.channel fields must exist. It returns
// the static .job/.user/.channel paths, checked for a leading '-' at run time.
func compileArgv(src string, i int, args map[string]*Arg) (*template.Template, [][]string, error) {
	t, err := template.New(fmt.Sprintf("command[%d]", i)).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, nil, cleanTemplateErr(err)
	}
	if len(t.Templates()) > 1 {
		return nil, nil, errors.New("define/block are not allowed in a command")
	}
	if i == 0 && src == "" {
		return nil, nil, errors.New("the program name is empty")
	}
	if i == 0 && hasActions(t) {
		return nil, nil, errors.New("the program name must be literal text, not a template")
	}
	w := &fieldWalker{args: args}
	w.list(t.Tree.Root, true)
	return t, w.refs, w.err
}

// hasActions reports whether a template does more than print literal text.
func hasActions(t *template.Template) bool {
	for _, n := range t.Tree.Root.Nodes {
		if n.Type() != parse.NodeText {
			return true
		}
	}
	return false
}

// fieldWalker visits a template tree. atRoot is false inside with/range,
// where dot is no longer the data root and fields cannot be checked.
type fieldWalker struct {
	args map[string]*Arg
	refs [][]string
	err  error
}

func (w *fieldWalker) list(l *parse.ListNode, atRoot bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		w.node(n, atRoot)
	}
}

func (w *fieldWalker) node(n parse.Node, atRoot bool) {
	switch n := n.(type) {
	case *parse.ActionNode:
		w.pipe(n.Pipe, atRoot)
	case *parse.IfNode:
		w.branch(&n.BranchNode, atRoot, atRoot)
	case *parse.WithNode, *parse.RangeNode:
		// Inside with/range, dot is a value the walker cannot check (a job
		// name could reach argv unseen), and argv needs neither.
		w.fail(errors.New("{{with}} and {{range}} are not allowed in a command; name each field, e.g. {{.job.name}}"))
	case *parse.IdentifierNode:
		if n.Ident == "index" {
			w.fail(errors.New("{{index}} is not allowed in a command; name the field, e.g. {{.job.context.zone}}"))
		}
	case *parse.TemplateNode:
		w.fail(errors.New("{{template}} is not allowed in a command"))
	case *parse.PipeNode:
		w.pipe(n, atRoot)
	case *parse.ChainNode:
		w.node(n.Node, atRoot)
	case *parse.FieldNode:
		if atRoot {
			w.field(n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" { // $ is the data root at any depth
			w.field(n.Ident[1:])
		}
	}
}

func (w *fieldWalker) branch(b *parse.BranchNode, atRoot, bodyAtRoot bool) {
	w.pipe(b.Pipe, atRoot)
	w.list(b.List, bodyAtRoot)
	w.list(b.ElseList, atRoot)
}

func (w *fieldWalker) pipe(p *parse.PipeNode, atRoot bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			w.node(a, atRoot)
		}
	}
}

// field checks one .a.b.c path against the data the template will get.
func (w *fieldWalker) field(ident []string) {
	known, ok := templateFields[ident[0]]
	switch {
	case !ok:
		w.fail(fmt.Errorf("unknown field .%s (want .args, .job, .user or .channel)", ident[0]))
	case len(ident) < 2 || (ident[0] == "job" && ident[1] == "context" && len(ident) < 3):
		// A whole map would print unchecked values: name a field instead.
		w.fail(fmt.Errorf(".%s is not a single value; name a field such as .%s.name", strings.Join(ident, "."), ident[0]))
	case ident[0] == "args":
		if _, ok := w.args[ident[1]]; !ok {
			w.fail(fmt.Errorf("argument %q is used but not declared under args", ident[1]))
		}
	case !slices.Contains(known, ident[1]):
		w.fail(fmt.Errorf("unknown field .%s.%s (want one of: %s)", ident[0], ident[1], strings.Join(known, ", ")))
	default:
		w.refs = append(w.refs, ident)
	}
}

func (w *fieldWalker) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// ArgvLimits bound the rendering of one argv element unless the server's
// configured limits are given (LoadLimited, Registry.SetArgvLimits): argv
// templates are the allowlist's, but the values they print come from jobs
// and people. The time limit is every template's (1 s, as the README
// says): it is wall time, a safety net beside the iteration and size
// limits, and 100 ms was within reach of a GC pause or a busy CPU (a plain
// argv was refused).
var ArgvLimits = jobs.TemplateLimits{MaxOutput: 64 << 10, MaxTime: jobs.DefaultTemplateMaxTime}

// argText is a value as a template would print it: a number from a job
// context ("-5", "-1e+21") is checked like a string. Maps, lists and
// missing values print no option-like text of their own.
func argText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case nil, map[string]any, []any:
		return "", false
	}
	return fmt.Sprint(v), true
}

// render executes the argv templates over validated args. An element that
// renders empty from a template is left out (so "{{if .args.force}}--force{{end}}"
// works); literal "" elements stay.
func (a *Action) render(data map[string]any) ([]string, error) {
	if err := checkRefs(data, a.refs); err != nil {
		return nil, err
	}
	argv := make([]string, 0, len(a.argv))
	for i, t := range a.argv {
		s, err := a.limited[i].Render(data)
		if err != nil {
			return nil, refusef("cannot build %s command[%d]: %v", a.Name, i, cleanTemplateErr(err))
		}
		if strings.ContainsRune(s, 0) {
			return nil, refusef("%s command[%d] would contain a NUL byte; refused", a.Name, i)
		}
		if s == "" && hasActions(t) {
			continue
		}
		argv = append(argv, s)
	}
	return argv, nil
}

// checkRefs refuses job, user or channel values that start with '-': they
// come from outside the allowlist and must not become options either.
func checkRefs(data map[string]any, refs [][]string) error {
	for _, path := range refs {
		var v any = data
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[k]
		}
		if s, ok := argText(v); ok && strings.HasPrefix(s, "-") {
			return refusef(".%s is %s, which starts with '-' and could be read as an option; refused",
				strings.Join(path, "."), quoteShort(s))
		}
	}
	return nil
}

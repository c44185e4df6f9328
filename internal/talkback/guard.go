package talkback

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"gopkg.in/yaml.v3"
)

// when compiles the guard against the typed Env, so a misspelt name or a
// non-boolean result fails at load time, with the line inside the file.
func (d *actionDecoder) when(n *yaml.Node) {
	what := d.prefix + "when"
	src, ok := d.str(n, what)
	if !ok || strings.TrimSpace(src) == "" {
		return
	}
	prog, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool())
	if err != nil {
		msg, line := err.Error(), 1
		var fe *file.Error
		if errors.As(err, &fe) {
			msg, line = fe.Message, fe.Line
		}
		d.errorAt(exprLine(n, line), "%s: %s", what, msg)
		return
	}
	v := &argRefs{args: d.a.Args}
	node := prog.Node()
	ast.Walk(&node, v)
	if v.unknown != "" {
		d.errorAt(exprLine(n, lineOf(src, v.at)), "%s: argument %q is used but not declared under args", what, v.unknown)
		return
	}
	d.a.When, d.a.guard = src, prog
}

// exprLine maps a line inside an expression to a line of the file: a
// literal block scalar (when: |) starts on the line after its key.
func exprLine(n *yaml.Node, line int) int {
	switch n.Style {
	case yaml.LiteralStyle:
		return n.Line + line
	case yaml.FoldedStyle:
		return n.Line + 1
	}
	return n.Line
}

// lineOf returns the 1-based line of a rune offset in src.
func lineOf(src string, runeOffset int) int {
	line, i := 1, 0
	for _, r := range src {
		if i == runeOffset {
			break
		}
		if r == '\n' {
			line++
		}
		i++
	}
	return line
}

// argRefs finds args.X (or args["X"]) naming an undeclared argument.
type argRefs struct {
	args    map[string]*Arg
	unknown string
	at      int
}

// Visit implements ast.Visitor.
func (v *argRefs) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok || v.unknown != "" {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "args" {
		return
	}
	if p, ok := m.Property.(*ast.StringNode); ok {
		if _, declared := v.args[p.Value]; !declared {
			v.unknown, v.at = p.Value, m.Location().From
		}
	}
}

// allows evaluates the guard. An error (say, a nil map in job.context) is
// returned as is; callers decide whether it means "no" or "needs args".
func (a *Action) allows(env Env) (bool, error) {
	if a.guard == nil {
		return true, nil
	}
	out, err := expr.Run(a.guard, env)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) { // drop the multi-line snippet: this text goes to chat
			return false, errors.New(fe.Message)
		}
		return false, fmt.Errorf("evaluate guard: %w", err)
	}
	ok, _ := out.(bool)
	return ok, nil
}

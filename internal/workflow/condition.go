package workflow

import (
	"errors"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// StepResult is what later steps see of an earlier one, in templates and
// in `if` conditions as steps.<id>.status / .output / .exitCode.
type StepResult struct {
	Status   string `json:"status" expr:"status"`
	Output   string `json:"output" expr:"output"`
	ExitCode int    `json:"exitCode" expr:"exitCode"`
}

// condEnv is the typed environment `if` conditions compile against, so
// that a typo such as steps.build.outptu is refused before anything runs.
type condEnv struct {
	Env   map[string]string     `expr:"env"`
	Steps map[string]StepResult `expr:"steps"`
}

// compileCondition compiles an `if` and lists the step ids it reads.
func compileCondition(src string) (*vm.Program, []string, error) {
	v := &stepRefs{}
	prog, err := expr.Compile(src, expr.Env(condEnv{}), expr.AsBool(), expr.Patch(v))
	if err != nil {
		return nil, nil, err
	}
	if v.uses != len(v.ids) {
		// steps[env.X], `let s = steps`, `"a" in steps`: which steps are read
		// cannot be known, so the dependency check could not hold.
		return nil, nil, errors.New("read steps only as steps.<id> (or steps[\"id\"]) so that the step's dependencies can be checked")
	}
	return prog, v.ids, nil
}

// stepRefs collects steps.<id> (and steps["id"]) from a condition's AST,
// and counts every use of steps to catch reads it cannot name.
type stepRefs struct {
	ids  []string
	uses int
}

// Visit implements ast.Visitor.
func (v *stepRefs) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "steps" {
			v.uses++
		}
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" {
			if s, ok := n.Property.(*ast.StringNode); ok {
				v.ids = append(v.ids, s.Value)
			}
		}
	}
}

// evalCondition runs a compiled `if` against the run's variables.
func evalCondition(prog *vm.Program, vars Vars) (bool, error) {
	out, err := expr.Run(prog, condEnv(vars))
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

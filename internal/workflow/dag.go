package workflow

import (
	"fmt"
	"strings"
)

// validate checks what spans steps: dependencies, cycles, templates and
// conditions. Parse calls it after every step parsed on its own.
func (p *parser) validate(w *Workflow) error {
	for _, s := range w.Steps {
		for _, d := range s.DependsOn {
			if w.byID[d] == nil {
				return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("step %q depends on unknown step %q", s.ID, d)}
			}
			if d == s.ID {
				return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("step %q depends on itself", s.ID)}
			}
		}
	}
	if cycle := findCycle(w); cycle != nil {
		return &ParseError{File: p.file, Line: w.byID[cycle[0]].Line,
			Msg: "dependency cycle: " + strings.Join(cycle, " -> ") + " (-> reads \"depends on\")"}
	}
	for _, s := range w.Steps {
		if err := p.checkRefs(w, s); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) checkRefs(w *Workflow, s *Step) error {
	refs, err := templateRefs(s.Config)
	if err != nil {
		return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("step %q: %v", s.ID, err)}
	}
	var ids []string
	for _, r := range refs {
		if r.step != "" {
			ids = append(ids, r.step)
		}
	}
	if s.If != "" {
		prog, condIDs, err := compileCondition(s.If)
		if err != nil {
			return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("step %q: if: %v", s.ID, err)}
		}
		s.cond = prog
		ids = append(ids, condIDs...)
	}
	ancestors := w.ancestors(s.ID)
	for _, id := range ids {
		if w.byID[id] == nil {
			return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("step %q refers to unknown step %q", s.ID, id)}
		}
		if !ancestors[id] {
			return &ParseError{File: p.file, Line: s.Line,
				Msg: fmt.Sprintf("step %q reads step %q but does not depend on it (add it to depends_on)", s.ID, id)}
		}
	}
	return nil
}

// ancestors lists every step id reachable through depends_on.
func (w *Workflow) ancestors(id string) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string(nil), w.byID[id].DependsOn...)
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[d] {
			continue
		}
		seen[d] = true
		stack = append(stack, w.byID[d].DependsOn...)
	}
	return seen
}

// findCycle returns a dependency cycle as ids, first repeated last
// ("a -> b -> a"), or nil. Depth-first search in file order, so the
// answer is stable.
func findCycle(w *Workflow) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		state[id] = onPath
		path = append(path, id)
		for _, d := range w.byID[id].DependsOn {
			switch state[d] {
			case onPath:
				for i, p := range path {
					if p == d {
						return append(append([]string(nil), path[i:]...), d)
					}
				}
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		return nil
	}
	for _, s := range w.Steps {
		if state[s.ID] == unvisited {
			if c := visit(s.ID); c != nil {
				return c
			}
		}
	}
	return nil
}

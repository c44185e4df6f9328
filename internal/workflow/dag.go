package workflow

import (
	"fmt"
	"strings"
)

// validate checks what spans steps: dependencies, cycles, templates and
// conditions. Parse calls it after every step parsed on its own.
// Every mistake is recorded; a dependency that is wrong is left out of the
// later checks, so that one mistake is not reported twice.
func (p *parser) validate(w *Workflow) {
	for _, s := range w.Steps {
		var ok []string
		for _, d := range s.DependsOn {
			switch {
			case w.byID[d] == nil:
				p.record(s.Line, fmt.Sprintf("step %q depends on unknown step %q", s.ID, d))
			case d == s.ID:
				p.record(s.Line, fmt.Sprintf("step %q depends on itself", s.ID))
			default:
				ok = append(ok, d)
			}
		}
		s.DependsOn = ok
	}
	if cycle := findCycle(w); cycle != nil {
		p.record(w.byID[cycle[0]].Line, "dependency cycle: "+strings.Join(cycle, " -> ")+" (-> reads \"depends on\")")
		return // ancestors are not defined on a cycle
	}
	for _, s := range w.Steps {
		p.checkRefs(w, s)
	}
}

func (p *parser) checkRefs(w *Workflow, s *Step) {
	refs, err := templateRefs(s.Config)
	if err != nil {
		p.record(s.Line, fmt.Sprintf("step %q: %v", s.ID, err))
		return
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
			p.record(s.Line, fmt.Sprintf("step %q: if: %v", s.ID, err))
			return
		}
		s.cond = prog
		ids = append(ids, condIDs...)
	}
	ancestors := w.ancestors(s.ID)
	for _, id := range ids {
		switch {
		case w.byID[id] == nil:
			p.record(s.Line, fmt.Sprintf("step %q refers to unknown step %q", s.ID, id))
		case !ancestors[id]:
			p.record(s.Line, fmt.Sprintf("step %q reads step %q but does not depend on it (add it to depends_on)", s.ID, id))
		}
	}
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

package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// Parse reads a workflow from JSON or YAML source and validates all of it
// (keys, step types and configs, the DAG, templates, conditions) before
// anything runs. file only names the source in errors.
func Parse(file string, src []byte) (*Workflow, error) {
	if err := checkJSON(file, src); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, &ParseError{File: file, Msg: "the file is empty; want {name, steps}"}
	}
	p := &parser{file: file}
	w := p.workflow(doc.Content[0])
	w.Hash = fileHash(src)
	p.validate(w)
	if len(p.errs) > 0 {
		return nil, p.errs.sorted()
	}
	return w, nil
}

// checkJSON gives JSON syntax errors a line number: a document that starts
// with '{' is meant as JSON, and the YAML parser's view of broken JSON is
// confusing.
func checkJSON(file string, src []byte) error {
	trimmed := bytes.TrimLeft(src, " \t\r\n\ufeff")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var v any
	err := json.Unmarshal(src, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(src, int(syn.Offset))
		return &ParseError{File: file, Line: line, Msg: fmt.Sprintf("invalid JSON at column %d: %v", col, syn)}
	}
	if err != nil {
		return &ParseError{File: file, Msg: fmt.Sprintf("invalid JSON: %v", err)}
	}
	return nil
}

func lineCol(src []byte, offset int) (int, int) {
	offset = min(max(offset, 0), len(src))
	before := src[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ParseError{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &ParseError{File: file, Msg: "invalid YAML: " + msg}
}

// parser walks the whole file and records every mistake it meets, so that
// one run reports them all.
type parser struct {
	file string
	errs ParseErrors
}

// errorf records a mistake at n's line and returns it, for callers that
// stop looking at the value it concerns.
func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return p.record(line, fmt.Sprintf(format, args...))
}

func (p *parser) record(line int, msg string) error {
	e := &ParseError{File: p.file, Line: line, Msg: msg}
	p.errs = append(p.errs, e)
	return e
}

// entries walks a mapping node's key/value pairs, refusing non-mappings,
// non-string keys and duplicate keys. A mistake in one entry does not stop
// the walk: fn's errors are already recorded. The result is non-nil when
// any entry was wrong.
func (p *parser) entries(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node) error) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			keep(p.errorf(k, "%s keys must be strings", what))
			continue
		}
		if firstLine, dup := seen[k.Value]; dup {
			keep(p.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, firstLine))
			continue
		}
		seen[k.Value] = k.Line
		if err := fn(k.Value, k, v); err != nil {
			keep(err)
		}
	}
	return first
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// workflow reads the top level and every step, recording mistakes; the
// result holds every step whose id could be read.
func (p *parser) workflow(root *yaml.Node) *Workflow {
	w := &Workflow{byID: map[string]*Step{}}
	var stepsNode, nameNode *yaml.Node
	p.entries(root, "the workflow", func(key string, k, v *yaml.Node) error {
		switch key {
		case "name":
			nameNode = v
			s, err := p.str(v, "name")
			w.Name = s
			return err
		case "description":
			_, err := p.str(v, "description")
			return err
		case "steps":
			stepsNode = v
			return nil
		}
		return p.errorf(k, "unknown key %q in the workflow (want name, description, steps)", key)
	})
	if resolve(root).Kind != yaml.MappingNode {
		return w // nothing more to say about a file that is not a mapping
	}
	switch {
	case nameNode == nil:
		p.errorf(root, "the workflow needs a name: it names the state file")
	case nameNode.Kind == yaml.ScalarNode && !namePattern.MatchString(w.Name):
		p.errorf(nameNode, "name %q must match [A-Za-z0-9][A-Za-z0-9._-]{0,62} (it names the state file)", w.Name)
	}
	if stepsNode == nil || stepsNode.Kind != yaml.SequenceNode || len(stepsNode.Content) == 0 {
		p.errorf(orNode(stepsNode, root), "steps must be a non-empty list")
		return w
	}
	for _, sn := range stepsNode.Content {
		s, ok := p.step(resolve(sn))
		if !ok {
			continue
		}
		if first := w.byID[s.ID]; first != nil {
			p.errorf(sn, "duplicate step id %q (first at line %d)", s.ID, first.Line)
			continue
		}
		w.byID[s.ID] = s
		w.Steps = append(w.Steps, s)
	}
	return w
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

func (p *parser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errorf(n, "%s must be a string, not %s", what, kindName(n))
	}
	return n.Value, nil
}

func (p *parser) strList(n *yaml.Node, what string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := p.str(n, what)
		return []string{s}, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s must be a list of step ids, not %s", what, kindName(n))
	}
	var out []string
	for _, item := range n.Content {
		s, err := p.str(resolve(item), what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, p.errorf(n, "%s must be true or false, not %s", what, kindName(n))
	}
	return b, nil
}

func (p *parser) duration(n *yaml.Node, what string) (int64, error) {
	s, err := p.str(n, what)
	if err != nil {
		return 0, err
	}
	d, err := jobs.ParseDuration(s)
	if err != nil {
		return 0, p.errorf(n, "%s: %v", what, err)
	}
	return int64(d), nil
}

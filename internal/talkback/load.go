package talkback

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// Load reads and compiles an allowlist file. Every mistake found is returned
// at once, each as a *ConfigError "file:line: reason" (joined with
// errors.Join); nothing partial is ever returned.
func Load(path string) (*Allowlist, error) { return LoadLimited(path, ArgvLimits) }

// LoadLimited is Load with argv templates rendered within argv, the
// server's configured template limits (zero fields: the defaults).
func LoadLimited(path string, argv jobs.TemplateLimits) (*Allowlist, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read talkback allowlist: %w", err)
	}
	return ParseLimited(path, data, argv)
}

// Check validates an allowlist file without keeping it; it backs the
// "cla talkback check <file>" subcommand and CI jobs that lint the file.
func Check(path string) error {
	_, err := Load(path)
	return err
}

// Parse compiles allowlist YAML. name is used in error messages and to
// resolve relative workdirs (against its directory).
func Parse(name string, data []byte) (*Allowlist, error) {
	return ParseLimited(name, data, ArgvLimits)
}

// ParseLimited is Parse with argv templates rendered within argv.
func ParseLimited(name string, data []byte, argv jobs.TemplateLimits) (*Allowlist, error) {
	l := &loader{file: name, dir: filepath.Dir(name), argv: argv}
	actions := l.document(data)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return newAllowlist(name, actions), nil
}

// loader collects errors while walking the YAML node tree, so one run of
// "check" reports every problem rather than the first.
type loader struct {
	file string
	dir  string
	argv jobs.TemplateLimits // what one argv element may cost to render
	errs []error
}

// errorf records a problem at node n's line.
func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.errorAt(n.Line, format, args...)
}

// errorAt records a problem at a given line.
func (l *loader) errorAt(line int, format string, args ...any) {
	l.errs = append(l.errs, &ConfigError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// document walks the top level: a mapping with one key, "actions".
func (l *loader) document(data []byte) []*Action {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		l.errs = append(l.errs, yamlError(l.file, err))
		return nil
	}
	if len(root.Content) == 0 {
		l.errorAt(1, "file is empty; want a mapping with an \"actions\" list")
		return nil
	}
	var actions []*Action
	for _, kv := range l.pairs(root.Content[0], "") {
		if kv.key.Value != "actions" {
			l.errorf(kv.key, "unknown field %q (want \"actions\")", kv.key.Value)
			continue
		}
		actions = l.actions(kv.val)
	}
	return actions
}

// actions compiles the list and rejects duplicate names.
func (l *loader) actions(n *yaml.Node) []*Action {
	if n = resolve(n); n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			l.errorf(n, "actions: want a list")
		}
		return nil
	}
	seen := map[string]int{}
	var out []*Action
	for i, item := range n.Content {
		a := l.action(resolve(item), i+1)
		if a == nil {
			continue
		}
		if first, dup := seen[a.Name]; dup {
			l.errorAt(a.nameLine, "action %q: name: duplicate (first defined at line %d)", a.Name, first)
			continue
		}
		seen[a.Name] = a.nameLine
		out = append(out, a)
	}
	return out
}

// keyValue is one entry of a YAML mapping.
type keyValue struct{ key, val *yaml.Node }

// pairs returns a mapping's entries, reporting a non-mapping and duplicate
// keys (which yaml.v3 node decoding does not catch).
func (l *loader) pairs(n *yaml.Node, what string) []keyValue {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			l.errorf(n, "%swant a mapping", what)
		}
		return nil
	}
	seen := map[string]int{}
	var out []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if first, dup := seen[k.Value]; dup {
			l.errorf(k, "%s%s: duplicate key (first at line %d)", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, keyValue{k, v})
	}
	return out
}

// str decodes a scalar as a string; what prefixes the error.
func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		l.errorf(n, "%s: want a string", what)
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// strList decodes a sequence of scalars.
func (l *loader) strList(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s: want a list of strings", what)
		return nil, false
	}
	ok := true
	for i, e := range n.Content {
		if e = resolve(e); e.Kind != yaml.ScalarNode {
			l.errorf(e, "%s[%d]: want a string", what, i)
			ok = false
		}
		n.Content[i] = e
	}
	return n.Content, ok
}

// decode uses yaml.v3 for typed scalars (bool, int) and reports its error
// at the node's line.
func (l *loader) decode(n *yaml.Node, what string, v any) bool {
	if err := n.Decode(v); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			msg = m[2]
		}
		l.errorf(n, "%s: %s", what, msg)
		return false
	}
	return true
}

// resolve follows YAML aliases so anchors can be used for shared args.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

var (
	actionNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	argNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

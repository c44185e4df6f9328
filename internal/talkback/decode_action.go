package talkback

import (
	"fmt"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// actionDecoder compiles one action; prefix names it in every error.
type actionDecoder struct {
	*loader
	a      *Action
	prefix string
}

// action compiles one list item; it returns nil when anything is wrong (the
// errors are recorded on the loader).
func (l *loader) action(n *yaml.Node, index int) *Action {
	before := len(l.errs)
	d := &actionDecoder{loader: l, prefix: fmt.Sprintf("action #%d: ", index),
		a: &Action{Line: n.Line, Timeout: DefaultTimeout, MaxOutput: DefaultMaxOutput, Args: map[string]*Arg{}}}
	fields := l.pairs(n, d.prefix)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	d.name(fields, n)
	var command, when *yaml.Node
	for _, kv := range fields {
		switch kv.key.Value {
		case "name":
		case "command":
			command = kv.val
		case "when":
			when = kv.val
		default:
			d.field(kv)
		}
	}
	d.command(command, n)
	if when != nil {
		d.when(when)
	}
	if len(l.errs) > before {
		return nil
	}
	return d.a
}

// name reads the name first, so every later error can say which action.
func (d *actionDecoder) name(fields []keyValue, n *yaml.Node) {
	for _, kv := range fields {
		if kv.key.Value != "name" {
			continue
		}
		s, ok := d.str(kv.val, d.prefix+"name")
		if !ok {
			return
		}
		d.a.Name, d.a.nameLine = s, kv.val.Line
		d.prefix = fmt.Sprintf("action %q: ", s)
		if !actionNameRE.MatchString(s) {
			d.errorf(kv.val, "%sname: must match %s", d.prefix, actionNameRE)
		}
		return
	}
	d.errorf(n, "%sname: missing", d.prefix)
}

// field decodes the simple fields; command and when come last because they
// depend on args.
func (d *actionDecoder) field(kv keyValue) {
	what := d.prefix + kv.key.Value
	switch kv.key.Value {
	case "description":
		d.a.Description, _ = d.str(kv.val, what)
	case "args":
		d.args(kv.val)
	case "timeout":
		d.timeout(kv.val, what)
	case "confirm":
		d.confirm(kv.val, what)
	case "env":
		d.env(kv.val, what)
	case "workdir":
		d.workdir(kv.val, what)
	case "maxOutput":
		if d.decode(kv.val, what, &d.a.MaxOutput) && d.a.MaxOutput <= 0 {
			d.errorf(kv.val, "%s: must be a positive number of bytes", what)
		}
	default:
		d.errorf(kv.key, "%sunknown field %q", d.prefix, kv.key.Value)
	}
}

func (d *actionDecoder) timeout(n *yaml.Node, what string) {
	s, ok := d.str(n, what)
	if !ok {
		return
	}
	t, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.errorf(n, "%s: %q is not a duration such as 30s or 5m", what, s)
	case t <= 0:
		d.errorf(n, "%s: must be positive", what)
	default:
		d.a.Timeout = t
	}
}

// confirm accepts `true`/`false` or `{groups: [...]}`.
func (d *actionDecoder) confirm(n *yaml.Node, what string) {
	if n.Kind == yaml.ScalarNode {
		d.decode(n, what, &d.a.Confirm.Required)
		return
	}
	d.a.Confirm.Required = true
	for _, kv := range d.pairs(n, what+": ") {
		if kv.key.Value != "groups" {
			d.errorf(kv.key, "%s: unknown field %q (want \"groups\")", what, kv.key.Value)
			continue
		}
		items, _ := d.strList(kv.val, what+": groups")
		for _, g := range items {
			d.a.Confirm.Groups = append(d.a.Confirm.Groups, g.Value)
		}
	}
}

func (d *actionDecoder) env(n *yaml.Node, what string) {
	d.a.Env = map[string]string{}
	for _, kv := range d.pairs(n, what+": ") {
		if !envNameRE.MatchString(kv.key.Value) {
			d.errorf(kv.key, "%s: %q is not a valid variable name", what, kv.key.Value)
			continue
		}
		if v, ok := d.str(kv.val, what+": "+kv.key.Value); ok {
			d.a.Env[kv.key.Value] = v
		}
	}
}

func (d *actionDecoder) workdir(n *yaml.Node, what string) {
	s, ok := d.str(n, what)
	if !ok || s == "" {
		return
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(d.dir, s)
	}
	d.a.Workdir = filepath.Clean(s)
}

// command compiles each argv element as a template and records the job,
// user and channel fields it names.
func (d *actionDecoder) command(n, action *yaml.Node) {
	what := d.prefix + "command"
	if n == nil {
		d.errorf(action, "%s: missing", what)
		return
	}
	items, ok := d.strList(n, what)
	if !ok {
		return
	}
	if len(items) == 0 {
		d.errorf(n, "%s: empty; want at least a program name", what)
		return
	}
	for i, e := range items {
		d.a.Command = append(d.a.Command, e.Value)
		t, refs, err := compileArgv(e.Value, i, d.a.Args)
		if err != nil {
			d.errorf(e, "%s[%d]: %v", what, i, err)
			continue
		}
		lt, err := jobs.LimitTemplate(t, d.argv)
		if err != nil {
			d.errorf(e, "%s[%d]: %v", what, i, err)
			continue
		}
		d.a.argv = append(d.a.argv, t)
		d.a.limited = append(d.a.limited, lt)
		d.a.refs = append(d.a.refs, refs...)
	}
}

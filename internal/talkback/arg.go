package talkback

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// args decodes the args mapping in file order.
func (d *actionDecoder) args(n *yaml.Node) {
	for _, kv := range d.pairs(n, d.prefix+"args: ") {
		name := kv.key.Value
		what := d.prefix + "args: " + name
		if !argNameRE.MatchString(name) {
			d.errorf(kv.key, "%s: argument names must match %s", what, argNameRE)
			continue
		}
		arg := d.arg(name, kv.val, what)
		if arg == nil { // keep the name so command and when do not cascade
			arg = &Arg{Name: name}
		}
		d.a.Args[name] = arg
		d.a.argOrder = append(d.a.argOrder, name)
	}
}

// arg decodes one argument and checks that it constrains its values and
// that its default and enum pass its own pattern.
func (d *actionDecoder) arg(name string, n *yaml.Node, what string) *Arg {
	before := len(d.errs)
	a := &Arg{Name: name}
	var defNode *yaml.Node
	for _, kv := range d.pairs(n, what+": ") {
		field := what + ": " + kv.key.Value
		switch kv.key.Value {
		case "pattern":
			a.Pattern, _ = d.str(kv.val, field)
			d.pattern(a, kv.val, field)
		case "required":
			d.decode(kv.val, field, &a.Required)
		case "default":
			a.Default, _ = d.str(kv.val, field)
			defNode = kv.val
		case "enum":
			items, _ := d.strList(kv.val, field)
			for _, e := range items {
				a.Enum = append(a.Enum, e.Value)
			}
		case "description":
			a.Description, _ = d.str(kv.val, field)
		default:
			d.errorf(kv.key, "%s: unknown field %q", what, kv.key.Value)
		}
	}
	if len(d.errs) > before {
		return nil
	}
	d.argConsistency(a, n, defNode, what)
	return a
}

func (d *actionDecoder) pattern(a *Arg, n *yaml.Node, what string) {
	re, err := regexp.Compile(`^(?:` + a.Pattern + `)$`)
	if err != nil {
		d.errorf(n, "%s: %v", what, err)
		return
	}
	a.re, a.dashOK = re, leadingDashExplicit(a.Pattern)
}

func (d *actionDecoder) argConsistency(a *Arg, n, defNode *yaml.Node, what string) {
	if a.re == nil && len(a.Enum) == 0 {
		d.errorf(n, "%s: needs a pattern or an enum, so that any value is checked", what)
		return
	}
	for _, e := range a.Enum {
		if err := a.check(e); err != nil {
			d.errorf(n, "%s: enum value %q: %s", what, e, err.Reason)
		}
	}
	if defNode != nil && a.Default != "" {
		if a.Required {
			d.errorf(defNode, "%s: a required argument cannot have a default", what)
		} else if err := a.check(a.Default); err != nil {
			d.errorf(defNode, "%s: default: %s", what, err.Reason)
		}
	}
}

// check validates one value: pattern (whole value), enum, and the leading
// dash rule that stops "--flag" smuggling into argv.
func (a *Arg) check(v string) *Refusal {
	inEnum := slices.Contains(a.Enum, v)
	if len(a.Enum) > 0 && !inEnum {
		return refusef("%s=%s is not one of: %s", a.Name, quoteShort(v), strings.Join(a.Enum, ", "))
	}
	if a.re != nil && !a.re.MatchString(v) {
		return refusef("%s=%s does not match the pattern %s", a.Name, quoteShort(v), a.Pattern)
	}
	if strings.HasPrefix(v, "-") && !a.dashOK && !inEnum {
		return refusef("%s=%s starts with '-', which the command could read as an option; refused", a.Name, quoteShort(v))
	}
	return nil
}

// quoteShort quotes a user value for a refusal, cut so a flood stays short.
func quoteShort(v string) string {
	const max = 60
	if r := []rune(v); len(r) > max {
		v = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", v)
}

// leadingDashExplicit reports whether pattern lets a value start with '-'
// by naming a literal '-' in its first position ("^-?[0-9]+$", "^\-").
// A character class such as [a-z0-9-] does not count: that is how names
// with inner dashes are written, not a wish to accept "-rf".
func leadingDashExplicit(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false
	}
	return firstIsDash(re)
}

func firstIsDash(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) > 0 && re.Rune[0] == '-'
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return firstIsDash(re.Sub[0])
	case syntax.OpAlternate:
		return slices.ContainsFunc(re.Sub, firstIsDash)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if firstIsDash(sub) {
				return true
			}
			if !canBeEmpty(sub) {
				return false
			}
		}
	}
	return false
}

func canBeEmpty(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpCapture, syntax.OpPlus:
		return canBeEmpty(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || canBeEmpty(re.Sub[0])
	case syntax.OpAlternate:
		return slices.ContainsFunc(re.Sub, canBeEmpty)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !canBeEmpty(sub) {
				return false
			}
		}
		return true
	}
	return false
}

// validateArgs checks the given key=value pairs against the declaration and
// returns every declared argument (defaults filled, absent optional ones
// empty), which is what guards and templates see.
func (a *Action) validateArgs(given map[string]string) (map[string]string, error) {
	for k := range given {
		if _, ok := a.Args[k]; !ok {
			return nil, a.unknownArg(k)
		}
	}
	out := make(map[string]string, len(a.Args))
	for _, name := range a.argOrder {
		arg := a.Args[name]
		v, ok := given[name]
		if !ok {
			if arg.Required {
				return nil, refusef("%s needs %s=<value>; try: %s", a.Name, name, a.Usage())
			}
			out[name] = arg.Default
			continue
		}
		if err := arg.check(v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func (a *Action) unknownArg(k string) *Refusal {
	if len(a.argOrder) == 0 {
		return refusef("%s takes no arguments (got %s)", a.Name, quoteShort(k))
	}
	return refusef("%s has no argument %s; it takes: %s", a.Name, quoteShort(k), strings.Join(a.argOrder, ", "))
}

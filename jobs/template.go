package jobs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// TemplateLimits bound what rendering one user-supplied template may cost,
// so that a short template cannot amplify into a huge record or a stalled
// server (a nested range over the context is the classic). Zero fields mean
// the defaults.
type TemplateLimits struct {
	// MaxOutput caps the rendered text in bytes; 64 KiB by default.
	MaxOutput int
	// MaxTime caps the wall time of one rendering; 1s by default.
	MaxTime time.Duration
	// MaxNesting caps how deep if/with/range blocks nest; 4 by default.
	MaxNesting int
	// MaxIterations caps the range iterations of one rendering, all loops
	// together; 10,000 by default.
	MaxIterations int
}

// Template limit defaults.
const (
	DefaultTemplateMaxOutput     = 64 << 10
	DefaultTemplateMaxTime       = time.Second
	DefaultTemplateMaxNesting    = 4
	DefaultTemplateMaxIterations = 10000
)

// WithDefaults fills zero fields with the defaults.
func (l TemplateLimits) WithDefaults() TemplateLimits {
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultTemplateMaxOutput
	}
	if l.MaxTime <= 0 {
		l.MaxTime = DefaultTemplateMaxTime
	}
	if l.MaxNesting <= 0 {
		l.MaxNesting = DefaultTemplateMaxNesting
	}
	if l.MaxIterations <= 0 {
		l.MaxIterations = DefaultTemplateMaxIterations
	}
	return l
}

// LimitedTemplate is a parsed template that renders within its limits. It
// is safe for concurrent use: each rendering has its own budget.
type LimitedTemplate struct {
	t   *template.Template
	lim TemplateLimits
	// esc, when set, escapes every value an action prints, given the
	// text rendered before it (see Markup).
	esc func(before, value string) string
}

const (
	tickFunc  = "claTemplateTick"
	valueFunc = "claTemplateValue"
)

// Markup is the chat text format of gate descriptions (Slack mrkdwn in
// `cla serve`, internal/slacktext.Markup). A description template's own
// literal text may use it; every value the template prints (a dispatch
// context value, the job's name) is data, escaped with EscapeValue given
// the text rendered before it, so it can form no mention, link or
// broadcast. Check may refuse the rendered text as a whole (a broadcast
// mention the configuration does not allow).
type Markup interface {
	EscapeValue(before, value string) string
	Check(rendered string) error
}

// plainMarkup is the default Markup: &, < and > of printed values are
// escaped (the characters every chat markup cla writes to shares); no
// rendered text is refused.
type plainMarkup struct{}

var plainEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func (plainMarkup) EscapeValue(_, value string) string { return plainEscaper.Replace(value) }
func (plainMarkup) Check(string) error                 { return nil }

// LimitTemplate checks a parsed template against lim (nesting; no
// define/block/template, whose recursion no budget sees) and instruments
// every range so that its iterations are counted and timed. The caller
// must not execute t itself afterwards.
func LimitTemplate(t *template.Template, lim TemplateLimits) (*LimitedTemplate, error) {
	lim = lim.WithDefaults()
	if len(t.Templates()) > 1 {
		return nil, Errorf(EINVALID, "%s template: define and block are not allowed", t.Name())
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return &LimitedTemplate{t: t, lim: lim}, nil
	}
	if err := instrument(t.Tree, t.Tree.Root, 0, lim.MaxNesting, false); err != nil {
		return nil, Errorf(EINVALID, "%s template: %v", t.Name(), err)
	}
	return &LimitedTemplate{t: t, lim: lim}, nil
}

// RenderMarkup is RenderLimited for text in a chat markup: the template's
// literal text is kept as written, and every value an action prints goes
// through m.EscapeValue. Text without "{[" is returned as it is.
func RenderMarkup(name, text string, data any, lim TemplateLimits, m Markup) (string, error) {
	if !strings.Contains(text, "{[") {
		return text, nil
	}
	if m == nil {
		m = plainMarkup{}
	}
	t, err := template.New(name).Delims("{[", "]}").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", Errorf(EINVALID, "%s template: %v", name, err)
	}
	lim = lim.WithDefaults()
	if len(t.Templates()) > 1 {
		return "", Errorf(EINVALID, "%s template: define and block are not allowed", name)
	}
	if t.Tree != nil && t.Tree.Root != nil {
		if err := instrument(t.Tree, t.Tree.Root, 0, lim.MaxNesting, true); err != nil {
			return "", Errorf(EINVALID, "%s template: %v", name, err)
		}
	}
	return (&LimitedTemplate{t: t, lim: lim, esc: m.EscapeValue}).Render(data)
}

// ParseLimited parses text as a Go template with {[ ]} delimiters (the gate
// description and job name syntax: {{ }} stays literal text for chat and
// CI tools) and limits it. A missing key is an error.
func ParseLimited(name, text string, lim TemplateLimits) (*LimitedTemplate, error) {
	t, err := template.New(name).Delims("{[", "]}").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, Errorf(EINVALID, "%s template: %v", name, err)
	}
	return LimitTemplate(t, lim)
}

// RenderLimited parses and renders text ({[ ]} delimiters) with data within
// lim. Text without "{[" is returned as it is. Every failure, including a
// limit reached, is an EINVALID error naming the template and the limit.
func RenderLimited(name, text string, data any, lim TemplateLimits) (string, error) {
	if !strings.Contains(text, "{[") {
		return text, nil
	}
	lt, err := ParseLimited(name, text, lim)
	if err != nil {
		return "", err
	}
	return lt.Render(data)
}

// instrument walks a list, refusing nesting past max and template calls, and
// prepends a budget tick to every range body. With escape, every action
// that prints gets a last command that escapes its value.
func instrument(tr *parse.Tree, l *parse.ListNode, depth, max int, escape bool) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		var b *parse.BranchNode
		switch n := n.(type) {
		case *parse.ActionNode:
			if escape && len(n.Pipe.Decl) == 0 && !isTick(n) {
				id := parse.NewIdentifier(valueFunc).SetTree(tr).SetPos(n.Position())
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Position(), Args: []parse.Node{id}})
			}
		case *parse.TemplateNode:
			return errors.New("{[template]} calls are not allowed")
		case *parse.IfNode:
			b = &n.BranchNode
		case *parse.WithNode:
			b = &n.BranchNode
		case *parse.RangeNode:
			b = &n.BranchNode
			n.List.Nodes = append([]parse.Node{tickNode(tr, n.Position())}, n.List.Nodes...)
		}
		if b == nil {
			continue
		}
		if depth+1 > max {
			return fmt.Errorf("blocks nest deeper than the nesting limit of %d", max)
		}
		if err := instrument(tr, b.List, depth+1, max, escape); err != nil {
			return err
		}
		if err := instrument(tr, b.ElseList, depth+1, max, escape); err != nil {
			return err
		}
	}
	return nil
}

// isTick reports whether an action is a budget tick.
func isTick(n *parse.ActionNode) bool {
	if len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return false
	}
	id, ok := n.Pipe.Cmds[0].Args[0].(*parse.IdentifierNode)
	return ok && id.Ident == tickFunc
}

// tickNode is the action {[claTemplateTick]}: it prints nothing and fails
// the rendering once the budget is spent.
func tickNode(tr *parse.Tree, pos parse.Pos) parse.Node {
	id := parse.NewIdentifier(tickFunc).SetTree(tr).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

// budget is one rendering's allowance.
type budget struct {
	lim      TemplateLimits
	deadline time.Time
	iters    int
	out      strings.Builder
}

var errLimit = errors.New("template limit")

func (b *budget) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errLimit, fmt.Sprintf(format, args...))
}

func (b *budget) checkTime() error {
	if time.Now().After(b.deadline) {
		return b.fail("rendering exceeds the time limit of %s", b.lim.MaxTime)
	}
	return nil
}

func (b *budget) tick() (string, error) {
	b.iters++
	if b.iters > b.lim.MaxIterations {
		return "", b.fail("loops exceed the iteration limit of %d", b.lim.MaxIterations)
	}
	return "", b.checkTime()
}

// Write implements io.Writer for the rendering, failing past MaxOutput.
func (b *budget) Write(p []byte) (int, error) {
	if b.out.Len()+len(p) > b.lim.MaxOutput {
		return 0, b.fail("output exceeds the size limit of %d bytes", b.lim.MaxOutput)
	}
	if err := b.checkTime(); err != nil {
		return 0, err
	}
	return b.out.Write(p)
}

// fmtWidthRE finds the width and precision of printf verbs.
var fmtWidthRE = regexp.MustCompile(`%[-+# 0]*(\*|\d+)?(?:\.(\*|\d+))?`)

// sprint wraps fmt's print functions so that neither a huge width
// ("%0999999999d") nor a value doubled in a loop can grow past MaxOutput
// before anything is written.
func (b *budget) sprint(f func(a ...any) string) func(a ...any) (string, error) {
	return func(a ...any) (string, error) {
		return b.capped(f(a...))
	}
}

func (b *budget) sprintf(format string, a ...any) (string, error) {
	for _, m := range fmtWidthRE.FindAllStringSubmatch(format, -1) {
		for _, w := range m[1:] {
			if w == "*" {
				return "", fmt.Errorf("printf: * widths are not allowed")
			}
			if n, err := strconv.Atoi(w); w != "" && (err != nil || n > b.lim.MaxOutput) {
				return "", b.fail("printf width exceeds the size limit of %d bytes", b.lim.MaxOutput)
			}
		}
	}
	return b.capped(fmt.Sprintf(format, a...))
}

func (b *budget) capped(s string) (string, error) {
	if len(s) > b.lim.MaxOutput {
		return "", b.fail("a value exceeds the size limit of %d bytes", b.lim.MaxOutput)
	}
	return s, b.checkTime()
}

// value prints one action's value as text/template would, escaped by esc
// given what was rendered before it.
func (b *budget) value(v any, esc func(before, value string) string) string {
	s := "<no value>"
	if v != nil {
		s = fmt.Sprint(v)
	}
	if esc == nil {
		return s
	}
	return esc(b.out.String(), s)
}

// Render executes the template with data within its limits.
func (lt *LimitedTemplate) Render(data any) (string, error) {
	b := &budget{lim: lt.lim, deadline: time.Now().Add(lt.lim.MaxTime)}
	t, err := lt.t.Clone()
	if err != nil {
		return "", Errorf(EINVALID, "%s template: %v", lt.t.Name(), err)
	}
	t.Funcs(template.FuncMap{
		tickFunc:  b.tick,
		valueFunc: func(v any) string { return b.value(v, lt.esc) },
		"printf":  b.sprintf,
		"print":   b.sprint(fmt.Sprint),
		"println": b.sprint(fmt.Sprintln),
	})
	if err := t.Execute(b, data); err != nil {
		if errors.Is(err, errLimit) {
			return "", Errorf(EINVALID, "%s template: %s", lt.t.Name(), strings.TrimPrefix(limitText(err), errLimit.Error()+": "))
		}
		return "", Errorf(EINVALID, "%s template: %s", lt.t.Name(), templateProblem(err))
	}
	return b.out.String(), nil
}

// Render renders one field of a gate config (name, description) over the
// job's dispatch context plus `job`, within the default TemplateLimits.
func Render(field, text string, j *Job) (string, error) {
	return RenderLimited(field, text, TemplateData(j), TemplateLimits{})
}

var (
	missingKey     = regexp.MustCompile(`at <([^>]*)>: map has no entry for key "([^"]*)"`)
	nilEval        = regexp.MustCompile(`at <([^>]*)>: nil pointer evaluating [^.]*\.(\S+)`)
	templatePrefix = regexp.MustCompile(`^template: [^:]*:\d+(:\d+)?: (executing "[^"]*" )?`)
)

// templateProblem says what went wrong in words a pipeline author can act
// on: the missing key and the expression that wanted it.
func templateProblem(err error) string {
	msg := err.Error()
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("missing key %q in {[%s]}: the dispatch context has no such key", m[2], m[1])
	}
	if m := nilEval.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("missing key %q in {[%s]}: the dispatch context has no such key", m[2], m[1])
	}
	return templatePrefix.ReplaceAllString(msg, "")
}

// limitText digs the limit message out of text/template's wrapping.
func limitText(err error) string {
	s := err.Error()
	if i := strings.Index(s, errLimit.Error()+": "); i >= 0 {
		return s[i:]
	}
	return s
}

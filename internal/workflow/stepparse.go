package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// step parses one entry of steps, recording every mistake in it; ok is
// false when the step has no usable id (then it cannot take part in the
// checks that span steps).
func (p *parser) step(n *yaml.Node) (s *Step, ok bool) {
	s = &Step{Line: n.Line}
	var cfgNode *yaml.Node
	p.entries(n, "a step", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "id":
			s.ID, err = p.str(v, "id")
		case "type":
			s.Type, err = p.str(v, "type")
		case "config":
			cfgNode = v
		case "depends_on":
			s.DependsOn, err = p.strList(v, "depends_on")
		case "pause":
			s.Pause, err = p.boolean(v, "pause")
		case "trap":
			s.Trap, err = p.trap(v)
		case "if":
			s.If, err = p.str(v, "if")
		case "timeout":
			var d int64
			d, err = p.duration(v, "timeout")
			s.Timeout = time.Duration(d)
		case "retries":
			err = p.retries(v, s)
		default:
			err = p.errorf(k, "unknown key %q in a step (want id, type, config, depends_on, pause, trap, if, timeout, retries)", key)
		}
		return err
	})
	if n.Kind != yaml.MappingNode {
		return nil, false
	}
	ok = stepIDPattern.MatchString(s.ID)
	if !ok {
		p.errorf(n, "step id %q must match [A-Za-z][A-Za-z0-9_-]{0,62}", s.ID)
	}
	p.config(s, cfgNode, n)
	return s, ok
}

func (p *parser) retries(v *yaml.Node, s *Step) error {
	if v.Kind != yaml.ScalarNode || v.Decode(&s.Retries) != nil || s.Retries < 0 || s.Retries > 100 {
		return p.errorf(v, "retries must be a whole number from 0 to 100, not %s", kindName(v))
	}
	return nil
}

// trap parses `trap: true` or `trap: {timeout: 1h, default: abort}`.
func (p *parser) trap(n *yaml.Node) (*Trap, error) {
	if n.Kind == yaml.ScalarNode {
		on, err := p.boolean(n, "trap")
		if err != nil || !on {
			return nil, err
		}
		return &Trap{Default: string(jobs.OutcomeAbort)}, nil
	}
	t := &Trap{Default: string(jobs.OutcomeAbort)}
	err := p.entries(n, "trap", func(key string, k, v *yaml.Node) error {
		switch key {
		case "timeout":
			d, err := p.duration(v, "trap.timeout")
			t.Timeout = time.Duration(d)
			return err
		case "default":
			s, err := p.str(v, "trap.default")
			if err == nil && s != "retry" && s != "skip" && s != "abort" {
				err = p.errorf(v, "trap.default must be retry, skip or abort, not %q", s)
			}
			t.Default = s
			return err
		}
		return p.errorf(k, "unknown key %q in trap (want timeout, default)", key)
	})
	return t, err
}

// configKeys lists the keys each step type accepts and which are required.
var configKeys = map[string]struct{ known, required []string }{
	TypeShell: {[]string{"command", "env", "dir"}, []string{"command"}},
	TypeSlackNotify: {[]string{"text", "message", "webhook_url", "channel", "link_url", "gitlab_pipeline_url",
		"link_text", "button_text"}, []string{"text|message"}},
	TypeWebhook: {[]string{"url", "body", "secret", "headers"}, []string{"url"}},
}

func (p *parser) config(s *Step, cfgNode, stepNode *yaml.Node) {
	s.Config = map[string]any{}
	keyLines := map[string]int{}
	if cfgNode != nil && !(cfgNode.Kind == yaml.ScalarNode && cfgNode.Tag == "!!null") {
		if cfgNode.Kind != yaml.MappingNode {
			p.errorf(cfgNode, "config of step %q must be a mapping, not %s", s.ID, kindName(cfgNode))
			return
		}
		err := p.entries(cfgNode, "config", func(key string, k, _ *yaml.Node) error {
			keyLines[key] = k.Line
			return nil
		})
		if err != nil {
			return
		}
		if err := cfgNode.Decode(&s.Config); err != nil {
			p.errorf(cfgNode, "config of step %q: %v", s.ID, err)
			return
		}
	}
	at := orNode(cfgNode, stepNode)
	if s.Type == TypeGate {
		p.gateConfig(s, at)
		return
	}
	keys, ok := configKeys[s.Type]
	if !ok {
		p.errorf(stepNode, "step %q has unknown type %q (want shell, slack.notify, webhook or gate)", s.ID, s.Type)
		return
	}
	for _, k := range sortedKeys(s.Config) {
		if !contains(keys.known, k) {
			p.record(keyLines[k], fmt.Sprintf("unknown config key %q for a %s step (want %s)", k, s.Type, strings.Join(keys.known, ", ")))
		}
	}
	p.required(s, at, keys.required)
	for _, pair := range synonyms {
		_, a := s.Config[pair[0]]
		_, b := s.Config[pair[1]]
		if a && b {
			p.errorf(at, "a %s step takes config.%s or config.%s, not both (they are synonyms)", s.Type, pair[0], pair[1])
		}
	}
	p.stringMaps(s, at, "env", "headers")
}

// synonyms are cla's and shiro's names for the same slack.notify option
// (text and message are checked as a required pair).
var synonyms = [][2]string{{"link_url", "gitlab_pipeline_url"}, {"link_text", "button_text"}}

// required checks the keys a step type needs. An entry "a|b" is met by
// either key (synonyms such as text and message) but not by both.
func (p *parser) required(s *Step, at *yaml.Node, required []string) {
	for _, k := range required {
		var set []string
		for _, name := range strings.Split(k, "|") {
			if str, ok := s.Config[name].(string); ok && strings.TrimSpace(str) != "" {
				set = append(set, name)
			}
		}
		switch names := strings.Split(k, "|"); {
		case len(set) == 0 && len(names) == 1:
			p.errorf(at, "a %s step needs config.%s (a non-empty string)", s.Type, k)
		case len(set) == 0:
			p.errorf(at, "a %s step needs config.%s (a non-empty string)", s.Type, strings.Join(names, " or config."))
		case len(set) > 1:
			p.errorf(at, "a %s step takes config.%s, not both (they are synonyms)", s.Type, strings.Join(set, " or config."))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (p *parser) stringMaps(s *Step, at *yaml.Node, names ...string) {
	for _, name := range names {
		v, ok := s.Config[name]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			p.errorf(at, "config.%s must be a mapping of strings", name)
			continue
		}
		for _, k := range sortedKeys(m) {
			if _, ok := m[k].(string); !ok {
				p.errorf(at, "config.%s.%s must be a string", name, k)
			}
		}
	}
	for _, name := range stringKeys {
		if v, ok := s.Config[name]; ok {
			if _, isStr := v.(string); !isStr {
				p.errorf(at, "config.%s must be a string", name)
			}
		}
	}
}

// stringKeys are config keys that take a string wherever they appear.
var stringKeys = []string{"secret", "dir", "webhook_url", "link_url", "link_text", "text", "message",
	"channel", "gitlab_pipeline_url", "button_text"}

// gateConfig checks a gate step's config against jobs.GateConfig: every
// option of the API is accepted under its API name, nothing else.
func (p *parser) gateConfig(s *Step, at *yaml.Node) {
	cfg, err := decodeGateConfig(s.Config)
	if err != nil {
		p.errorf(at, "gate step %q: %v", s.ID, err)
		return
	}
	switch cfg.Kind {
	case jobs.KindAction, jobs.KindApproval, jobs.KindPause:
	default:
		p.errorf(at, "gate step %q: kind must be action, approval or pause, not %q", s.ID, cfg.Kind)
		return
	}
	if cfg.CompletesJob {
		p.errorf(at, "gate step %q: completesJob is not allowed; the runner ends the job", s.ID)
		return
	}
	if hasTemplate(s.Config) {
		return // validated again once expanded
	}
	if err := cfg.Validate(); err != nil {
		p.errorf(at, "gate step %q: %s", s.ID, jobs.ErrorMessage(err))
	}
}

func decodeGateConfig(m map[string]any) (jobs.GateConfig, error) {
	var cfg jobs.GateConfig
	raw, err := json.Marshal(m)
	if err != nil {
		return cfg, fmt.Errorf("encode config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config: %v (options are those of the gate API: %s)", err, gateOptions())
	}
	return cfg, nil
}

func gateOptions() string {
	opts := []string{"kind", "name", "description", "assignees", "channels", "timeout", "requireEvidence",
		"reminder", "escalation", "checklist", "allowPartialChecklist", "required", "allowSelfApproval", "continueOnFailure"}
	sort.Strings(opts)
	return strings.Join(opts, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

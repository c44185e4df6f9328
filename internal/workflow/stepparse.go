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

// step parses one entry of steps.
func (p *parser) step(n *yaml.Node) (*Step, error) {
	s := &Step{Line: n.Line}
	var cfgNode *yaml.Node
	err := p.entries(n, "a step", func(key string, k, v *yaml.Node) error {
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
	if err != nil {
		return nil, err
	}
	if !stepIDPattern.MatchString(s.ID) {
		return nil, p.errorf(n, "step id %q must match [A-Za-z][A-Za-z0-9_-]{0,62}", s.ID)
	}
	if err := p.config(s, cfgNode, n); err != nil {
		return nil, err
	}
	return s, nil
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
	TypeShell:       {[]string{"command", "env", "dir"}, []string{"command"}},
	TypeSlackNotify: {[]string{"text", "webhook_url", "link_url", "link_text"}, []string{"text"}},
	TypeWebhook:     {[]string{"url", "body", "secret", "headers"}, []string{"url"}},
}

func (p *parser) config(s *Step, cfgNode, stepNode *yaml.Node) error {
	s.Config = map[string]any{}
	if cfgNode != nil && !(cfgNode.Kind == yaml.ScalarNode && cfgNode.Tag == "!!null") {
		if cfgNode.Kind != yaml.MappingNode {
			return p.errorf(cfgNode, "config of step %q must be a mapping, not %s", s.ID, kindName(cfgNode))
		}
		if err := p.entries(cfgNode, "config", func(string, *yaml.Node, *yaml.Node) error { return nil }); err != nil {
			return err
		}
		if err := cfgNode.Decode(&s.Config); err != nil {
			return p.errorf(cfgNode, "config of step %q: %v", s.ID, err)
		}
	}
	at := orNode(cfgNode, stepNode)
	if s.Type == TypeGate {
		return p.gateConfig(s, at)
	}
	keys, ok := configKeys[s.Type]
	if !ok {
		return p.errorf(stepNode, "step %q has unknown type %q (want shell, slack.notify, webhook or gate)", s.ID, s.Type)
	}
	for k := range s.Config {
		if !contains(keys.known, k) {
			return p.errorf(at, "unknown config key %q for a %s step (want %s)", k, s.Type, strings.Join(keys.known, ", "))
		}
	}
	for _, k := range keys.required {
		if str, ok := s.Config[k].(string); !ok || strings.TrimSpace(str) == "" {
			return p.errorf(at, "a %s step needs config.%s (a non-empty string)", s.Type, k)
		}
	}
	return p.stringMaps(s, at, "env", "headers")
}

func (p *parser) stringMaps(s *Step, at *yaml.Node, names ...string) error {
	for _, name := range names {
		v, ok := s.Config[name]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return p.errorf(at, "config.%s must be a mapping of strings", name)
		}
		for k, val := range m {
			if _, ok := val.(string); !ok {
				return p.errorf(at, "config.%s.%s must be a string", name, k)
			}
		}
	}
	for _, name := range []string{"secret", "dir", "webhook_url", "link_url", "link_text"} {
		if v, ok := s.Config[name]; ok {
			if _, isStr := v.(string); !isStr {
				return p.errorf(at, "config.%s must be a string", name)
			}
		}
	}
	return nil
}

// gateConfig checks a gate step's config against jobs.GateConfig: every
// option of the API is accepted under its API name, nothing else.
func (p *parser) gateConfig(s *Step, at *yaml.Node) error {
	cfg, err := decodeGateConfig(s.Config)
	if err != nil {
		return p.errorf(at, "gate step %q: %v", s.ID, err)
	}
	switch cfg.Kind {
	case jobs.KindAction, jobs.KindApproval, jobs.KindPause:
	default:
		return p.errorf(at, "gate step %q: kind must be action, approval or pause, not %q", s.ID, cfg.Kind)
	}
	if cfg.CompletesJob {
		return p.errorf(at, "gate step %q: completesJob is not allowed; the runner ends the job", s.ID)
	}
	if hasTemplate(s.Config) {
		return nil // validated again once expanded
	}
	if err := cfg.Validate(); err != nil {
		return p.errorf(at, "gate step %q: %s", s.ID, jobs.ErrorMessage(err))
	}
	return nil
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

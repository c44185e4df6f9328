package workflow

import (
	"fmt"
	"regexp"
	"strings"
)

// Templates are {{env.X}} and {{steps.<id>.output|status|exitCode}}. Other
// {{...}} text (Go or Docker templates in a shell command) is left alone.
var templateRef = regexp.MustCompile(`\{\{\s*((?:env|steps)\.[^{}]*?)\s*\}\}`)

// ref is one parsed template reference.
type ref struct {
	env   string // env.<env>
	step  string // steps.<step>.<field>
	field string
}

func parseRef(expr string) (ref, error) {
	parts := strings.Split(expr, ".")
	switch {
	case parts[0] == "env" && len(parts) == 2 && parts[1] != "":
		return ref{env: parts[1]}, nil
	case parts[0] == "steps" && len(parts) == 3 && parts[1] != "":
		switch parts[2] {
		case "output", "status", "exitCode":
			return ref{step: parts[1], field: parts[2]}, nil
		}
		return ref{}, fmt.Errorf("{{%s}}: a step has output, status and exitCode, not %q", expr, parts[2])
	}
	return ref{}, fmt.Errorf("{{%s}} is not {{env.NAME}} or {{steps.ID.output}}", expr)
}

// walkStrings calls fn for every string value in v, recursively.
func walkStrings(v any, fn func(string) error) error {
	switch x := v.(type) {
	case string:
		return fn(x)
	case map[string]any:
		for _, val := range x {
			if err := walkStrings(val, fn); err != nil {
				return err
			}
		}
	case []any:
		for _, val := range x {
			if err := walkStrings(val, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// templateRefs returns every reference in a config, refusing malformed ones.
func templateRefs(cfg map[string]any) ([]ref, error) {
	var refs []ref
	err := walkStrings(cfg, func(s string) error {
		for _, m := range templateRef.FindAllStringSubmatch(s, -1) {
			r, err := parseRef(m[1])
			if err != nil {
				return err
			}
			refs = append(refs, r)
		}
		return nil
	})
	return refs, err
}

func hasTemplate(cfg map[string]any) bool {
	refs, err := templateRefs(cfg)
	return err != nil || len(refs) > 0
}

// Vars is what templates and conditions see.
type Vars struct {
	Env   map[string]string
	Steps map[string]StepResult
}

// expandConfig returns a copy of cfg with every template expanded. An
// undefined variable is an error, never an empty string.
func expandConfig(cfg map[string]any, vars Vars) (map[string]any, error) {
	out, err := expandValue(cfg, vars)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func expandValue(v any, vars Vars) (any, error) {
	switch x := v.(type) {
	case string:
		return expandString(x, vars)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			e, err := expandValue(val, vars)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			e, err := expandValue(val, vars)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return v, nil
}

func expandString(s string, vars Vars) (string, error) {
	var firstErr error
	out := templateRef.ReplaceAllStringFunc(s, func(m string) string {
		val, err := lookup(templateRef.FindStringSubmatch(m)[1], vars)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return val
	})
	return out, firstErr
}

func lookup(expr string, vars Vars) (string, error) {
	r, err := parseRef(expr)
	if err != nil {
		return "", err
	}
	if r.env != "" {
		v, ok := vars.Env[r.env]
		if !ok {
			return "", fmt.Errorf("{{%s}}: environment variable %s is not set", expr, r.env)
		}
		return v, nil
	}
	res, ok := vars.Steps[r.step]
	if !ok {
		return "", fmt.Errorf("{{%s}}: step %s has no result yet", expr, r.step)
	}
	switch r.field {
	case "status":
		return res.Status, nil
	case "exitCode":
		return fmt.Sprint(res.ExitCode), nil
	}
	return res.Output, nil
}

// expandStepConfig expands a step's config for running. In a shell step's
// command, templates never become shell code: each {{...}} is replaced by
// a quoted variable reference ("${CLA_STEPS_BUILD_OUTPUT}",
// "${CLA_ENV_BRANCH}") and its value travels in the step's environment, so
// an output such as `x; id > pwned` stays one word of data.
func expandStepConfig(s *Step, vars Vars) (map[string]any, error) {
	command, isShell := s.Config["command"].(string)
	if s.Type != TypeShell || !isShell {
		return expandConfig(s.Config, vars)
	}
	rest := make(map[string]any, len(s.Config))
	for k, v := range s.Config {
		if k != "command" {
			rest[k] = v
		}
	}
	cfg, err := expandConfig(rest, vars)
	if err != nil {
		return nil, err
	}
	env := map[string]any{}
	if e, ok := cfg["env"].(map[string]any); ok {
		for k, v := range e {
			env[k] = v
		}
	}
	cmd, err := shellCommand(command, vars, env)
	if err != nil {
		return nil, err
	}
	cfg["command"], cfg["env"] = cmd, env
	return cfg, nil
}

// shellCommand replaces every template in a shell command with a quoted
// variable reference and adds the variable to env.
func shellCommand(command string, vars Vars, env map[string]any) (string, error) {
	var firstErr error
	names := map[string]string{} // variable -> the expression it holds
	out := templateRef.ReplaceAllStringFunc(command, func(m string) string {
		expr := templateRef.FindStringSubmatch(m)[1]
		val, err := lookup(expr, vars)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return ""
		}
		name := shellVarName(expr)
		for i := 2; names[name] != "" && names[name] != expr; i++ {
			name = fmt.Sprintf("%s_%d", shellVarName(expr), i)
		}
		names[name] = expr
		env[name] = val
		return `"${` + name + `}"`
	})
	return out, firstErr
}

// shellVarName turns "steps.build-1.output" into CLA_STEPS_BUILD_1_OUTPUT.
func shellVarName(expr string) string {
	b := []byte("CLA_" + strings.ToUpper(strings.Join(strings.Fields(expr), "")))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

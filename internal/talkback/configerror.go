package talkback

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
)

// ConfigError is one mistake in an allowlist file, located by file and line
// so that "cla talkback check" and a refused "serve" point at the fix.
type ConfigError struct {
	File string
	Line int
	Msg  string // e.g. `action "restart": when: unknown name usr`
}

// Error implements error in the compiler style "file:line: reason".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ConfigErrors returns every ConfigError in err, in line order, for callers
// that render them one by one; Load joins them with errors.Join.
func ConfigErrors(err error) []*ConfigError {
	var out []*ConfigError
	var walk func(error)
	walk = func(err error) {
		var ce *ConfigError
		if errors.As(err, &ce) && err == error(ce) {
			out = append(out, ce)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if errors.As(err, &ce) {
			out = append(out, ce)
		}
	}
	if err != nil {
		walk(err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns a yaml.v3 syntax error into a ConfigError, keeping its line.
func yamlError(file string, err error) *ConfigError {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &ConfigError{File: file, Line: 1, Msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	return &ConfigError{File: file, Line: line, Msg: m[2]}
}

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewLogger_oneComponent(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  func(e *env)
		want string
	}{
		{"wiring's own lines", func(e *env) { newLogger(e, "").Info("listening") }, "component=cla"},
		{"a package names itself again", func(e *env) {
			newLogger(e, "").With("component", "slack").With("component", "bot", "team", "T1").Info("connected")
		}, "component=bot team=T1"},
		{"other attributes stay", func(e *env) {
			newLogger(e, "").With("job", "qa-1").With("component", "web").Info("request", "status", 200)
		}, "job=qa-1 component=web status=200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testEnv(nil)
			tc.log(e)
			out := e.stderr.(*bytes.Buffer).String()
			require.Contains(t, out, tc.want)
			require.Equal(t, 1, strings.Count(out, "component="), out)
		})
	}
	t.Run("level", func(t *testing.T) {
		e := testEnv(nil)
		newLogger(e, "warn").With("component", "web").Info("quiet")
		require.Empty(t, e.stderr.(*bytes.Buffer).String())
	})
}

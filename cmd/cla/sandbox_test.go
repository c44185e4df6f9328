package main

import (
	"bytes"
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/config"
)

func TestSandboxRun_announce(t *testing.T) {
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		t.Run(tc.addr, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.addr)
			require.NoError(t, err)
			defer ln.Close()
			var buf bytes.Buffer
			(&sandboxRun{}).announce(ln, "http://cla.example", slog.New(slog.NewTextHandler(&buf, nil)))
			require.Contains(t, buf.String(), "no Slack tokens: using the sandbox Slack at http://cla.example/sandbox")
			require.Equal(t, tc.warn, bytes.Contains(buf.Bytes(), []byte("level=WARN")), buf.String())
		})
	}
}

func TestSandboxOn(t *testing.T) {
	off, on := false, true
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want bool
	}{
		{"default", config.Config{DB: "cla.db"}, true},
		{"turned on", config.Config{DB: "cla.db", Sandbox: &on}, true},
		{"turned off", config.Config{DB: "cla.db", Sandbox: &off}, false},
		{"real tokens", config.Config{DB: "cla.db", Slack: config.SlackConfig{AppToken: "xapp-1", BotToken: "xoxb-1"}, Sandbox: &on}, false},
		{"postgres", config.Config{DB: "cla.db", Store: "postgres://db/cla"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, sandboxOn(&tc.cfg)) })
	}
}

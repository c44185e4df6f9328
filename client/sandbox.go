package client

import (
	"context"
	"net/http"
)

// SandboxDemo is what a started sandbox demo made.
type SandboxDemo struct {
	JobID   string `json:"jobId"`
	Channel string `json:"channel"`
	URL     string `json:"url"`
}

// StartSandboxDemo asks a server running the sandbox Slack to start a demo
// (POST /sandbox/api/demo); as names the sandbox person who binds the
// demo channel ("" for alice). A server without the sandbox answers 404.
func (c *Client) StartSandboxDemo(ctx context.Context, as string) (SandboxDemo, error) {
	var out SandboxDemo
	err := c.do(ctx, http.MethodPost, "/sandbox/api/demo", map[string]string{"as": as}, &out)
	return out, err
}

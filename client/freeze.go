package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cla-ops/cla/jobs"
)

// CreateFreeze starts a deployment freeze (POST /v1/freezes; admins).
func (c *Client) CreateFreeze(ctx context.Context, in jobs.NewFreeze) (jobs.Freeze, error) {
	var f jobs.Freeze
	err := c.do(ctx, http.MethodPost, "/v1/freezes", in, &f)
	return f, err
}

// Freezes lists the freezes that have not ended (GET /v1/freezes; admins).
func (c *Client) Freezes(ctx context.Context) ([]jobs.Freeze, error) {
	var out struct {
		Freezes []jobs.Freeze `json:"freezes"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/freezes", nil, &out)
	return out.Freezes, err
}

// LiftFreeze ends a freeze before its time (DELETE /v1/freezes/{id}; admins).
func (c *Client) LiftFreeze(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/freezes/"+url.PathEscape(id), nil, nil)
}

package client

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// CreateJob creates a job (POST /v1/jobs). A gate in `in` opens at once and
// its outcome ends the job.
func (c *Client) CreateJob(ctx context.Context, in jobs.NewJob) (*jobs.Job, error) {
	var job jobs.Job
	if err := c.do(ctx, http.MethodPost, "/v1/jobs", in, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// WhoAmI returns the identity the client's token authenticates.
func (c *Client) WhoAmI(ctx context.Context) (jobs.Identity, error) {
	var id jobs.Identity
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, &id)
	return id, err
}

// GetJob returns one job with its gates.
func (c *Client) GetJob(ctx context.Context, id string) (*jobs.Job, error) {
	var job jobs.Job
	if err := c.do(ctx, http.MethodGet, jobPath(id), nil, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// WaitJob long-polls: it returns the job as soon as its version is greater
// than since, or the current job after wait (the server caps wait at 120s).
func (c *Client) WaitJob(ctx context.Context, id string, since uint64, wait time.Duration) (*jobs.Job, error) {
	q := url.Values{"since": {strconv.FormatUint(since, 10)}, "wait": {wait.String()}}
	var job jobs.Job
	if err := c.do(ctx, http.MethodGet, jobPath(id)+"?"+q.Encode(), nil, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// ListJobs lists jobs newest first; pass page.Next as q.Cursor for more.
func (c *Client) ListJobs(ctx context.Context, q jobs.ListQuery) (jobs.JobPage, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	path := "/v1/jobs"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var page jobs.JobPage
	err := c.do(ctx, http.MethodGet, path, nil, &page)
	return page, err
}

// Progress records automated progress (PATCH /v1/jobs/{id}): in_progress,
// successful, failure or cancelled.
func (c *Client) Progress(ctx context.Context, id string, status jobs.Status, msg string) (*jobs.Job, error) {
	body := map[string]string{"status": string(status), "message": msg}
	var job jobs.Job
	if err := c.do(ctx, http.MethodPatch, jobPath(id), body, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// OpenGate opens a gate on a job that has none open.
func (c *Client) OpenGate(ctx context.Context, id string, cfg jobs.GateConfig) (*jobs.Gate, error) {
	var gate jobs.Gate
	if err := c.do(ctx, http.MethodPost, jobPath(id, "gates"), cfg, &gate); err != nil {
		return nil, err
	}
	return &gate, nil
}

// Resolve acts on the job's open gate. The action picks the route:
// complete/fail → /complete, approve, reject, resume, and retry/skip/abort →
// /decide.
func (c *Client) Resolve(ctx context.Context, id string, r jobs.Resolution) (*jobs.Job, error) {
	path, body := resolveRoute(id, r)
	var out struct {
		jobs.Job
		Result *jobs.Job `json:"job"`
	}
	if err := c.do(ctx, http.MethodPost, path, body, &out); err != nil {
		return nil, err
	}
	if out.Result != nil {
		return out.Result, nil
	}
	return &out.Job, nil
}

func resolveRoute(id string, r jobs.Resolution) (string, any) {
	switch r.Action {
	case jobs.ActComplete, jobs.ActFail:
		status := jobs.StatusSuccessful
		if r.Action == jobs.ActFail {
			status = jobs.StatusFailure
		}
		return jobPath(id, "complete"), withBreakGlass(map[string]any{"status": status, "message": r.Message, "evidence": r.Evidence}, r)
	case jobs.ActRetry, jobs.ActSkip, jobs.ActAbort:
		return jobPath(id, "decide"), withBreakGlass(map[string]any{"decision": r.Action, "message": r.Message}, r)
	}
	return jobPath(id, string(r.Action)), withBreakGlass(map[string]any{"message": r.Message}, r)
}

// withBreakGlass adds an admin's override to a resolution body.
func withBreakGlass(body map[string]any, r jobs.Resolution) map[string]any {
	if r.BreakGlass != nil {
		body["breakGlass"] = r.BreakGlass
	}
	return body
}

// Reassign replaces the open gate's assignees; the new ones are notified.
func (c *Client) Reassign(ctx context.Context, id string, assignees []string) (*jobs.Job, error) {
	var job jobs.Job
	if err := c.do(ctx, http.MethodPost, jobPath(id, "reassign"), map[string]any{"assignees": assignees}, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Check ticks (or unticks) checklist item (0-based) of the open gate.
func (c *Client) Check(ctx context.Context, id string, item int, checked bool) (*jobs.Job, error) {
	var job jobs.Job
	body := map[string]any{"item": item, "checked": checked}
	if err := c.do(ctx, http.MethodPost, jobPath(id, "checklist"), body, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Annotate attaches a comment, file, log or misc annotation to a job.
func (c *Client) Annotate(ctx context.Context, id string, a jobs.NewAnnotation) error {
	return c.do(ctx, http.MethodPost, jobPath(id, "annotations"), a, nil)
}

// Log returns the job's log entries with seq greater than after (at most
// 1000; call again with the last seq for more).
func (c *Client) Log(ctx context.Context, id string, after uint64) ([]jobs.LogEntry, error) {
	var out struct {
		Entries []jobs.LogEntry `json:"entries"`
	}
	path := jobPath(id, "log") + "?after=" + strconv.FormatUint(after, 10)
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// AnnotationContent is a file annotation's bytes as the server sends them.
type AnnotationContent struct {
	// Name is the file name from Content-Disposition.
	Name string
	// ContentType is the media type the server gave.
	ContentType string
	// Body is the file; the caller closes it.
	Body io.ReadCloser
}

// GetAnnotationContent fetches file annotation n (from 1) of a job
// (GET /v1/jobs/{id}/annotations/{n}/content).
func (c *Client) GetAnnotationContent(ctx context.Context, id string, n int) (*AnnotationContent, error) {
	resp, err := c.send(ctx, http.MethodGet, jobPath(id, "annotations", strconv.Itoa(n), "content"), nil, "*/*")
	if err != nil {
		return nil, err
	}
	out := &AnnotationContent{ContentType: resp.Header.Get("Content-Type"), Body: resp.Body}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		out.Name = path.Base(strings.ReplaceAll(params["filename"], "\\", "/"))
	}
	return out, nil
}

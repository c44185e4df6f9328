package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cla-ops/cla/internal/webhooksig"
)

// runWebhook POSTs config.body (or a default describing the run) as JSON
// to config.url, signed as in SPEC §7 when config.secret is set. A 2xx
// answer succeeds; its body is the step's output.
func (r *runner) runWebhook(ctx context.Context, s *Step, cfg map[string]any) stepOut {
	url, _ := cfg["url"].(string)
	body, ok := cfg["body"]
	if !ok {
		body = map[string]any{"workflow": r.w.Name, "step": s.ID, "runId": r.st.RunID, "jobId": r.st.JobID}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return stepOut{Err: fmt.Errorf("encode body: %w", err)}
	}
	headers := map[string]string{}
	if h, ok := cfg["headers"].(map[string]any); ok {
		for k, v := range h {
			headers[k], _ = v.(string)
		}
	}
	if secret, _ := cfg["secret"].(string); secret != "" {
		signed := http.Header{}
		webhooksig.SetHeaders(signed, []byte(secret), time.Now(), raw)
		for k := range signed {
			headers[k] = signed.Get(k)
		}
	}
	return r.post(ctx, url, raw, headers)
}

// post sends JSON and reads a capped answer. The URL is not repeated in
// errors: webhook URLs often carry secrets.
func (r *runner) post(ctx context.Context, url string, body []byte, headers map[string]string) stepOut {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return stepOut{Err: fmt.Errorf("bad url: %v", redact(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cla-run")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := r.opts.HTTP.Do(req)
	if err != nil {
		return stepOut{Err: fmt.Errorf("post: %v", redact(err)), ExitCode: 1}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	out := stepOut{Output: string(answer)}
	if resp.StatusCode/100 != 2 {
		out.ExitCode = 1
		out.Err = fmt.Errorf("answered %s", resp.Status)
	}
	return out
}

// redact drops the URL from net/http errors.
func redact(err error) error {
	if ue, ok := err.(interface{ Unwrap() error }); ok && ue.Unwrap() != nil {
		return ue.Unwrap()
	}
	return err
}

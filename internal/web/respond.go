package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/cla-ops/cla/jobs"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Error codes of the HTTP layer, besides the domain's (jobs.ENOTFOUND ...).
const (
	codeUnauthorized     = "unauthorized"
	codeTooLarge         = "too_large"
	codeBadJSON          = "bad_json"
	codeMethodNotAllowed = "method_not_allowed"
)

// Body caps: 1 MiB for ordinary requests; annotations carry a base64 file
// of up to 1 MiB, which is 4/3 larger, plus the JSON around it.
const (
	defaultMaxBody    = 1 << 20
	annotationMaxBody = 3 << 19
)

// apiError is an error answer the HTTP layer produces itself.
type apiError struct {
	status int
	code   string
	msg    string
}

// Error implements error.
func (e *apiError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

var statusOf = map[string]int{
	jobs.ENOTFOUND:  http.StatusNotFound,
	jobs.ECONFLICT:  http.StatusConflict,
	jobs.EFORBIDDEN: http.StatusForbidden,
	jobs.EINVALID:   http.StatusBadRequest,
	jobs.EFROZEN:    http.StatusConflict,
	jobs.ERATELIMIT: http.StatusTooManyRequests,
	jobs.ETOOLARGE:  http.StatusRequestEntityTooLarge,
	jobs.EQUOTA:     http.StatusTooManyRequests,
}

// StatusOf is the HTTP status that answers a domain error, and false
// for an error the API answers as an internal one (500). The web monitor
// answers with the same table.
func StatusOf(err error) (int, bool) {
	status, ok := statusOf[jobs.ErrorCode(err)]
	if !ok {
		return http.StatusInternalServerError, false
	}
	return status, true
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	v = redacted(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The same bytes as encoding/json's Encoder, for less CPU (most
	// answers carry a whole job).
	_ = jsonv1.NewEncoder(w).Encode(v)
}

// writeError answers {"error", "code"}. Internal errors are logged with
// their details and answered with "internal error" only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.status, errorBody{Error: ae.msg, Code: ae.code})
		return
	}
	code := jobs.ErrorCode(err)
	status, ok := StatusOf(err)
	if !ok {
		s.log.Error("request failed", "route", r.Pattern, "err", err)
		status, code = http.StatusInternalServerError, jobs.EINTERNAL
	}
	writeJSON(w, status, errorBody{Error: jobs.ErrorMessage(err), Code: code, Hint: jobs.ErrorHint(err)})
}

type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Hint says what would allow a refused request.
	Hint string `json:"hint,omitempty"`
}

// decode reads a JSON body of at most limit bytes into v. An empty body
// decodes as {}. Unknown fields are accepted: gate configs are a superset of
// ctrlplane's and clients may send more than we read.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return errorf(http.StatusBadRequest, codeBadJSON, "read request body: %v", err)
	}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errorf(http.StatusBadRequest, codeBadJSON, "request body is not valid JSON: %s", jsonProblem(err))
	}
	return nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// requestLog is the debug line written for each request. The path is left
// out: a callback URL carries a secret token; the route pattern is enough.
func (s *Server) requestLog(r *http.Request, status int, took float64) {
	if !s.log.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	s.log.Debug("request", "method", r.Method, "route", r.Pattern, "job", r.PathValue("id"),
		"status", status, "seconds", took)
}

// redacted hides webhook URL credentials in whatever carries jobs or gates:
// only the delivery itself sees them.
func redacted(v any) any {
	switch x := v.(type) {
	case *jobs.Job:
		return x.Redacted()
	case *jobs.Gate:
		return x.Redacted()
	case jobs.JobPage:
		page := jobs.JobPage{Next: x.Next, Jobs: make([]*jobs.Job, len(x.Jobs))}
		for i, j := range x.Jobs {
			page.Jobs[i] = j.Redacted()
		}
		return page
	case completionAnswer:
		x.Job = x.Job.Redacted()
		return x
	}
	return v
}

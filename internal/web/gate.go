package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

func (s *Server) openGate(w http.ResponseWriter, r *http.Request, c caller) {
	var cfg jobs.GateConfig
	if err := decode(w, r, s.maxBody, &cfg); err != nil {
		s.writeError(w, r, err)
		return
	}
	job, gate, err := s.svc.OpenGate(r.Context(), c.id, c.via, r.PathValue("id"), cfg)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+url.PathEscape(job.ID))
	w.Header().Set("X-Cla-Job-Version", strconv.FormatUint(job.Version, 10))
	writeJSON(w, http.StatusCreated, gate)
}

// evidence accepts the structured {message, url} or, leniently, a bare
// string: a URL or a message.
type evidence struct{ jobs.Evidence }

// UnmarshalJSON implements json.Unmarshaler.
func (e *evidence) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
			e.URL = s
		} else {
			e.Message = s
		}
		return nil
	}
	return json.Unmarshal(b, &e.Evidence)
}

// completion is the ctrlplane completion body, also used by callbacks.
type completion struct {
	Status   string    `json:"status"`
	Action   string    `json:"action"`
	Decision string    `json:"decision"`
	Message  string    `json:"message"`
	Evidence *evidence `json:"evidence"`
	// BreakGlass is an admin's emergency override {"reason": "..."}.
	BreakGlass *jobs.BreakGlass `json:"breakGlass"`
}

func (in completion) evidence() *jobs.Evidence {
	if in.Evidence == nil || in.Evidence.Empty() {
		return nil
	}
	ev := in.Evidence.Evidence
	return &ev
}

// complete is ctrlplane's completion API: it resolves the open action gate.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, c caller) {
	var in completion
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var act jobs.Action
	if in.Status == "" {
		in.Status = string(jobs.StatusSuccessful) // the RFC's default
	}
	switch jobs.Status(in.Status) {
	case jobs.StatusSuccessful:
		act = jobs.ActComplete
	case jobs.StatusFailure:
		act = jobs.ActFail
	default:
		s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "status must be successful or failure, not %q", in.Status))
		return
	}
	job, _, err := s.svc.Resolve(r.Context(), c.id, c.via, r.PathValue("id"), jobs.Resolution{Action: act, Message: in.Message, Evidence: in.evidence(), BreakGlass: in.BreakGlass})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, completionAnswer{JobID: job.ID, Status: jobs.Status(in.Status), Job: job})
}

// completionAnswer is ctrlplane's {jobId, status}, status being the
// terminal status asked for, plus the whole job (whose own status differs
// when the gate did not end the job: it is in_progress again).
type completionAnswer struct {
	JobID  string      `json:"jobId"`
	Status jobs.Status `json:"status"`
	Job    *jobs.Job   `json:"job"`
}

// simple serves approve, reject and resume: {message?}.
func (s *Server) simple(act jobs.Action) func(http.ResponseWriter, *http.Request, caller) {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		var in completion
		if err := decode(w, r, s.maxBody, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		job, _, err := s.svc.Resolve(r.Context(), c.id, c.via, r.PathValue("id"), jobs.Resolution{Action: act, Message: in.Message, BreakGlass: in.BreakGlass})
		s.answerJob(w, r, job, err)
	}
}

// decide answers a trap: {decision: retry|skip|abort, message?}.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, c caller) {
	var in completion
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	act := jobs.Action(in.Decision)
	if kind, ok := jobs.KindOf(act); !ok || kind != jobs.KindTrap {
		s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "decision must be retry, skip or abort, not %q", in.Decision))
		return
	}
	job, _, err := s.svc.Resolve(r.Context(), c.id, c.via, r.PathValue("id"), jobs.Resolution{Action: act, Message: in.Message, BreakGlass: in.BreakGlass})
	s.answerJob(w, r, job, err)
}

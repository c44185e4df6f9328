package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// maxWait caps a long-poll so that proxies and clients see an answer
// regularly; clients poll again.
const maxWait = 120 * time.Second

// whoami answers the caller's own identity: `cla run --state-store server`
// uses it to trust only the state its own identity wrote.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request, c caller) {
	writeJSON(w, http.StatusOK, c.id)
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request, c caller) {
	var in jobs.NewJob
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	job, err := s.svc.CreateJob(r.Context(), c.id, c.via, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+url.PathEscape(job.ID))
	writeJSON(w, http.StatusCreated, job)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, c caller) {
	q := jobs.ListQuery{Status: jobs.Status(r.URL.Query().Get("status")), Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "limit %q must be a positive number", v))
			return
		}
		q.Limit = n
	}
	page, err := s.svc.ListJobs(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Jobs == nil {
		page.Jobs = []*jobs.Job{}
	}
	writeJSON(w, http.StatusOK, page)
}

// getJob returns a job; with ?wait= it long-polls until the version passes
// ?since= (by default the current version, i.e. the next change).
func (s *Server) getJob(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	wait, since, err := waitParams(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wait == 0 {
		job, err := s.svc.GetJob(r.Context(), id)
		s.answerJob(w, r, job, err)
		return
	}
	if since == nil {
		job, err := s.svc.GetJob(r.Context(), id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		since = &job.Version
	}
	ctx, cancel := s.pollContext(r.Context(), wait)
	defer cancel()
	s.metrics.waiting.Inc()
	job, err := s.svc.Wait(ctx, id, *since)
	s.metrics.waiting.Dec()
	s.answerJob(w, r, job, err)
}

func (s *Server) answerJob(w http.ResponseWriter, r *http.Request, job *jobs.Job, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

func waitParams(q url.Values) (time.Duration, *uint64, error) {
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := jobs.ParseDuration(v)
		if err != nil {
			return 0, nil, jobs.Errorf(jobs.EINVALID, "wait: %v", err)
		}
		wait = min(d, maxWait)
	}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, nil, jobs.Errorf(jobs.EINVALID, "since %q must be a job version (a number)", v)
		}
		return wait, &n, nil
	}
	return wait, nil, nil
}

// pollContext ends after d, when the client goes away, or when the server
// starts shutting down.
func (s *Server) pollContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, d)
	stop := context.AfterFunc(s.stopping, cancel)
	return ctx, func() { stop(); cancel() }
}

type progressBody struct {
	Status  jobs.Status `json:"status"`
	Message string      `json:"message"`
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request, c caller) {
	var in progressBody
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	job, err := s.svc.Progress(r.Context(), c.id, c.via, r.PathValue("id"), in.Status, in.Message)
	s.answerJob(w, r, job, err)
}

func (s *Server) reassign(w http.ResponseWriter, r *http.Request, c caller) {
	var in struct {
		Assignees []string `json:"assignees"`
	}
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	job, _, err := s.svc.Reassign(r.Context(), c.id, c.via, r.PathValue("id"), in.Assignees)
	s.answerJob(w, r, job, err)
}

func (s *Server) checklist(w http.ResponseWriter, r *http.Request, c caller) {
	var in struct {
		Item    *int  `json:"item"`
		Checked *bool `json:"checked"`
	}
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Item == nil || in.Checked == nil {
		s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "checklist needs item (0-based index) and checked (true or false)"))
		return
	}
	job, _, err := s.svc.ToggleChecklist(r.Context(), c.id, c.via, r.PathValue("id"), *in.Item, *in.Checked)
	s.answerJob(w, r, job, err)
}

package web

import (
	"net/http"

	"github.com/cla-ops/cla/jobs"
)

// createFreeze starts a deployment freeze (admins): POST /v1/freezes
// {reason, from?, until, environments?, deployments?, blockCompletion?}.
func (s *Server) createFreeze(w http.ResponseWriter, r *http.Request, c caller) {
	var in jobs.NewFreeze
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.svc.CreateFreeze(r.Context(), c.id, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/freezes/"+f.ID)
	writeJSON(w, http.StatusCreated, f)
}

// listFreezes answers {freezes: [...]}: the freezes that have not ended.
func (s *Server) listFreezes(w http.ResponseWriter, r *http.Request, c caller) {
	if !c.id.Admin {
		s.writeError(w, r, jobs.Errorf(jobs.EFORBIDDEN, "only admins may list freezes"))
		return
	}
	fs, err := s.svc.Freezes(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"freezes": fs})
}

// liftFreeze ends a freeze before its time (admins).
func (s *Server) liftFreeze(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	if err := s.svc.LiftFreeze(r.Context(), c.id, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": "lifted"})
}

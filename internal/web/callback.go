package web

import (
	"net/http"

	"github.com/cla-ops/cla/jobs"
)

// callback resolves a gate from a webhook receiver. The signed token is the
// authority (no bearer token): it names one job and gate, expires, and is
// spent in the transaction that resolves the gate, so a refused attempt
// (evidence missing, a bad body) leaves it usable and says why, and a
// replay after success gets 409. The body is
// the completion body: {status: successful|failure} or {action: ...},
// with message and evidence.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if s.verifier == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, jobs.ENOTFOUND, "webhook callbacks are not configured on this server"))
		return
	}
	token := r.PathValue("token")
	jobID, gateID, err := s.verifier.Verify(token)
	if err != nil {
		s.log.Info("callback refused", "err", err)
		s.writeError(w, r, errorf(http.StatusUnauthorized, codeUnauthorized, "callback token is invalid or expired"))
		return
	}
	var in completion
	if err := decode(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	act, err := s.callbackAction(r, jobID, gateID, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	job, _, err := s.svc.Resolve(r.Context(), jobs.Webhook, jobs.ViaWebhook, jobID,
		jobs.Resolution{Action: act, Message: in.Message, Evidence: in.evidence(), Gate: gateID, Once: "callback:" + token})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, completionAnswer{JobID: job.ID, Status: job.Status, Job: job})
}

// callbackAction picks the action: explicit (action or decision), or from
// status successful/failure by the kind of the gate the token names. A
// token for a gate that is no longer open gets 409 saying who closed it.
func (s *Server) callbackAction(r *http.Request, jobID, gateID string, in completion) (jobs.Action, error) {
	job, err := s.svc.GetJob(r.Context(), jobID)
	if err != nil {
		return "", err
	}
	g := job.Gate(gateID)
	if g == nil {
		return "", jobs.Errorf(jobs.ENOTFOUND, "job %s has no gate %s", jobID, gateID)
	}
	if g.State != jobs.GateOpen {
		return "", jobs.Errorf(jobs.ECONFLICT, "gate %s of job %s was %s", g.ID, jobID, g.ResolvedText())
	}
	act := jobs.Action(in.Action)
	if act == "" {
		act = jobs.Action(in.Decision)
	}
	if act == "" {
		act = statusAction(g.Kind, in.Status)
	}
	if kind, ok := jobs.KindOf(act); !ok || kind != g.Kind {
		return "", jobs.Errorf(jobs.EINVALID, "gate %s is a %s gate; say status successful or failure, or a %s action", g.ID, g.Kind, g.Kind)
	}
	return act, nil
}

func statusAction(kind jobs.GateKind, status string) jobs.Action {
	pass := map[jobs.GateKind]jobs.Action{jobs.KindAction: jobs.ActComplete, jobs.KindApproval: jobs.ActApprove,
		jobs.KindPause: jobs.ActResume, jobs.KindTrap: jobs.ActRetry}
	fail := map[jobs.GateKind]jobs.Action{jobs.KindAction: jobs.ActFail, jobs.KindApproval: jobs.ActReject,
		jobs.KindTrap: jobs.ActAbort}
	switch jobs.Status(status) {
	case jobs.StatusSuccessful:
		return pass[kind]
	case jobs.StatusFailure:
		return fail[kind]
	}
	return ""
}

// reloadTalkback re-reads the TalkBack allowlist; admins only. A bad file
// is refused with its file:line reasons and the old allowlist stays.
func (s *Server) reloadTalkback(w http.ResponseWriter, r *http.Request, c caller) {
	if s.reload == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, jobs.ENOTFOUND, "TalkBack is not configured on this server (start it with --talkback)"))
		return
	}
	if !c.id.Admin {
		s.writeError(w, r, jobs.Forbidden("use an identity with admin: true in the server config, or send SIGHUP to the server", "%s is not an admin; only admins may reload TalkBack", c.id.Name))
		return
	}
	if err := s.reload(); err != nil {
		s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "talkback allowlist not reloaded: %v", err))
		return
	}
	s.log.Info("talkback reloaded", "by", c.id.Name)
	writeJSON(w, http.StatusOK, map[string]bool{"reloaded": true})
}

// webLogin answers a one-time sign-in link to the web monitor for the
// caller: a terminal user swaps their API token for a browser session.
func (s *Server) webLogin(w http.ResponseWriter, r *http.Request, c caller) {
	if s.login == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, jobs.ENOTFOUND, "the web monitor is not served by this server"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": s.login(c.id)})
}

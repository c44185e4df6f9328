package gates

import (
	"context"
	"fmt"

	"github.com/cla-ops/cla/jobs"
)

// breakGlass resolves the open gate by an admin's override; the domain
// refuses non-admins and records the override everywhere; the Announcer
// rewrites the announcements.
func (h *Handler) breakGlass(ctx context.Context, who jobs.Identity, jobID string, a jobs.Action, text, reason string) (Reply, error) {
	job, g, err := h.svc.Resolve(ctx, who, jobs.ViaSlack, jobID, jobs.Resolution{Action: a, Message: text,
		BreakGlass: &jobs.BreakGlass{Reason: reason}})
	if err != nil {
		return Reply{Text: h.failureText(err, "break glass")}, nil
	}
	return Reply{Text: fmt.Sprintf("⚠️ Break-glass: %s *%s* of job %s; the job is now %s. The override is recorded in the job log and the assignees are told.",
		outcomeWords(g), escape(g.Name), jobID, job.Status)}, nil
}

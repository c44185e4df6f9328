package gates

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
)

// toggle applies a checkboxes click: every item of the clicked group whose
// state differs from the gate's is ticked or unticked through the service
// (each one logged), for the gate the message was rendered for (checked in
// each transaction). The Announcer rewrites the announcements.
func (h *Handler) toggle(ctx context.Context, who jobs.Identity, c Click) error {
	jobID, gateID, part, ok := blocks.ParseBlockID(c.BlockID)
	start, okPart := blocks.ParseChecklistPart(part)
	if !ok || !okPart {
		h.log.Warn("checklist click without a checklist block id", "block", c.BlockID)
		return nil
	}
	job, err := h.svc.GetJob(ctx, jobID)
	if err != nil {
		h.tell(ctx, c.ChannelID, c.UserID, h.failureText(err, "get job"))
		return nil
	}
	g := job.Gate(gateID)
	if g == nil {
		h.tell(ctx, c.ChannelID, c.UserID, fmt.Sprintf("Job %s has no gate %s.", jobID, gateID))
		return nil
	}
	changed := false
	for i := start; i < min(start+blocks.ChecklistPage, len(g.Checklist)); i++ {
		want := slices.Contains(c.SelectedOptions, strconv.Itoa(i))
		if want == g.Checked(i) {
			continue
		}
		if _, _, err := h.svc.ToggleChecklistOf(ctx, who, jobs.ViaSlack, jobID, gateID, i, want); err != nil {
			h.tell(ctx, c.ChannelID, c.UserID, h.failureText(err, "toggle checklist"))
			break
		}
		changed = true
	}
	if !changed {
		// Slack's client already shows the person's ticks, which must be
		// put right even though the gate did not change.
		h.ann.Restore(ctx, jobID, gateID)
		return nil
	}
	h.refreshHomeOf(ctx, c)
	return nil
}

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
// (each one logged), then the announcements are rewritten.
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
	if g == nil || g.State != jobs.GateOpen {
		h.tell(ctx, c.ChannelID, c.UserID, fmt.Sprintf("That checklist belongs to a closed gate of job %s.", jobID))
		h.refresh(ctx, jobID, gateID)
		return nil
	}
	changed := false
	for i := start; i < min(start+blocks.ChecklistPage, len(g.Checklist)); i++ {
		want := slices.Contains(c.SelectedOptions, strconv.Itoa(i))
		if want == g.Checked(i) {
			continue
		}
		if _, _, err := h.svc.ToggleChecklist(ctx, who, jobs.ViaSlack, jobID, i, want); err != nil {
			h.tell(ctx, c.ChannelID, c.UserID, h.failureText(err, "toggle checklist"))
			break
		}
		changed = true
	}
	// Rewrite even when nothing changed or a tick was refused: Slack's
	// client already shows the person's ticks, which must be put right.
	h.refresh(ctx, jobID, gateID)
	if changed {
		h.refreshHomeOf(ctx, c)
	}
	return nil
}

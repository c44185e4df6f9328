package jobs

import (
	"context"
	"sort"
)

// WaitingOn lists the jobs whose open gate names the identity among its
// assignees (escalations included), newest first. It reads only the
// indexes of the three waiting statuses, never every job.
func (s *Service) WaitingOn(ctx context.Context, who Identity, limit int) ([]*Job, error) {
	var out []*Job
	for _, status := range []Status{StatusActionRequired, StatusAwaitingApproval, StatusPaused} {
		cursor := ""
		for {
			page, err := s.store.ListJobs(ctx, ListQuery{Status: status, Limit: 200, Cursor: cursor})
			if err != nil {
				return nil, err
			}
			for _, j := range page.Jobs {
				if j.WaitsOn(who) {
					out = append(out, j)
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].CreatedAt.After(out[k].CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

package jobs

import "context"

// WaitingOn lists the jobs whose open gate names the identity among its
// assignees (escalations included), newest first, at most limit (0: all).
// It reads the store's assignee index, so its cost follows the gates
// waiting on this identity, not the number of open gates.
func (s *Service) WaitingOn(ctx context.Context, who Identity, limit int) ([]*Job, error) {
	keys := who.AssigneeKeys()
	if len(keys) == 0 {
		return nil, nil
	}
	candidates, err := s.store.WaitingOn(ctx, keys, 0)
	if err != nil {
		return nil, err
	}
	out := candidates[:0]
	for _, j := range candidates {
		if j.WaitsOn(who) { // keys are a superset: Matches has the last word
			out = append(out, j)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

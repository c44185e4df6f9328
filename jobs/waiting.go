package jobs

import "context"

// WaitingOn lists the jobs whose open gate names the identity among its
// assignees (escalations included), newest first, at most limit (0: all).
// It reads the store's assignee index, so its cost follows the gates
// waiting on this identity, not the number of open gates; with a limit it
// decodes about limit jobs, not every job waiting on the identity.
func (s *Service) WaitingOn(ctx context.Context, who Identity, limit int) ([]*Job, error) {
	keys := who.AssigneeKeys()
	if len(keys) == 0 {
		return nil, nil
	}
	ask := 0 // the store's limit: a little above ours, for the keys' false positives
	if limit > 0 {
		ask = limit + limit/4 + 1
	}
	for {
		candidates, err := s.store.WaitingOn(ctx, keys, ask)
		if err != nil {
			return nil, err
		}
		out := candidates[:0]
		for _, j := range candidates {
			if j.WaitsOn(who) { // keys are a superset: Matches has the last word
				out = append(out, j)
			}
		}
		if ask == 0 || len(out) >= limit || len(candidates) < ask {
			if limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			return out, nil
		}
		ask *= 2 // the newest candidates were mostly false positives: read further
	}
}

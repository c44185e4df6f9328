package jobs

import (
	"context"
	"time"
)

// ChatState is what the Slack side keeps between one envelope and the
// next: pending TalkBack confirmations and the App Homes people opened.
// Slack delivers each envelope to any of the app's connections, so with
// several replicas the click on a confirm message may reach a replica
// that did not post it; the state therefore lives in the store, where
// every replica (and a restarted one) finds it. Both stores implement it
// beside Store, and internal/store/storetest covers it.
type ChatState interface {
	// PutConfirmation stores a new pending confirmation; ECONFLICT if the
	// id exists.
	PutConfirmation(ctx context.Context, c Confirmation) error
	// Confirmation returns one confirmation, settled or not; ENOTFOUND if
	// it is unknown or was pruned.
	Confirmation(ctx context.Context, id string) (Confirmation, error)
	// SettleConfirmation ends a pending confirmation with outcome, in one
	// conditional write: only the first caller, before Expires, gets the
	// settled record. Every other caller gets the record as it stands and
	// an ECONFLICT error (its Outcome says how it ended; "" means it
	// expired). ENOTFOUND for an unknown id.
	SettleConfirmation(ctx context.Context, id, outcome string, at time.Time) (Confirmation, error)
	// PruneConfirmations deletes the confirmations, settled or not, whose
	// Expires is before t, and says how many. It reads an expiry index.
	PruneConfirmations(ctx context.Context, before time.Time) (int, error)
	// PutHome stores what a person's App Home shows. With subscribe it
	// creates or replaces the record (the person opened the home);
	// without, it only updates a record that exists, keeps its Expires,
	// and reports false when there is none. Nil Jobs keeps the stored ones.
	PutHome(ctx context.Context, h HomeView, subscribe bool) (bool, error)
	// HomesFor returns, without repeats and sorted, the people whose home
	// has not expired at t and shows jobID or has any of keys; with
	// jobID "" and no keys, every such person. It reads indexes by job and
	// by key, so its cost follows the homes concerned.
	HomesFor(ctx context.Context, jobID string, keys []string, at time.Time) ([]string, error)
	// PruneHomes deletes the homes whose Expires is before t.
	PruneHomes(ctx context.Context, before time.Time) (int, error)
}

// Confirmation is a TalkBack request waiting for a second person. It
// holds what was asked, not the prepared command: a click prepares it
// again against the job as it is then, and runs it only if the argv is
// the one that was shown.
type Confirmation struct {
	ID            string            `json:"id"`
	JobID         string            `json:"jobId"`
	Channel       string            `json:"channel"`
	Thread        string            `json:"thread,omitempty"` // where the result goes; "" for the confirm message
	Requester     string            `json:"requester"`        // Slack user id
	RequesterName string            `json:"requesterName,omitempty"`
	Action        string            `json:"action"`
	Args          map[string]string `json:"args,omitempty"`
	Argv          []string          `json:"argv"`
	CreatedAt     time.Time         `json:"createdAt"`
	Expires       time.Time         `json:"expires"`
	// Outcome is "" while pending, then how it ended ("confirmed by …").
	Outcome   string    `json:"outcome,omitempty"`
	SettledAt time.Time `json:"settledAt,omitzero"`
}

// HomeView is a person's App Home as last published: whose it is, the
// assignee keys of that person (Identity.AssigneeKeys) and the jobs it
// shows, which are the two ways a change reaches it.
type HomeView struct {
	User    string    `json:"user"` // Slack user id
	Keys    []string  `json:"keys,omitempty"`
	Jobs    []string  `json:"jobs,omitempty"`
	Expires time.Time `json:"expires"`
}

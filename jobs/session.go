package jobs

import (
	"context"
	"time"
)

// Session is one signed-in browser of the web monitor, kept server-side so
// that signing out, or revoking it from another browser, ends it even if
// its cookie was copied. ID is a digest of the cookie's secret, never the
// secret itself: reading the store does not let anyone sign in.
type Session struct {
	ID        string    `json:"id"`
	Identity  string    `json:"identity"`
	CreatedAt time.Time `json:"createdAt"`
	LastSeen  time.Time `json:"lastSeen"`
	ExpiresAt time.Time `json:"expiresAt"`
	// UserAgent and IP describe the browser as the server saw it at sign-in
	// (capped), so that a person can tell their sessions apart.
	UserAgent string `json:"userAgent,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// SessionStore keeps web sessions. It is part of every Store, so that
// sessions live where jobs live and every replica sees the same list.
type SessionStore interface {
	// PutSession stores a new session, or replaces one with the same ID.
	PutSession(ctx context.Context, s Session) error
	// GetSession returns a session; ENOTFOUND for an unknown (revoked,
	// pruned) id. It does not check expiry: the caller does.
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession sets a session's LastSeen; ENOTFOUND if it is gone.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// ListSessions returns an identity's sessions, newest first.
	ListSessions(ctx context.Context, identity string) ([]Session, error)
	// DeleteSession revokes one session; ENOTFOUND for an unknown id.
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessions revokes every session of an identity and says how
	// many there were.
	DeleteSessions(ctx context.Context, identity string) (int, error)
	// PruneSessions removes the sessions expired at or before t, reading an
	// expiry index (never every session), and says how many it removed.
	PruneSessions(ctx context.Context, t time.Time) (int, error)
}

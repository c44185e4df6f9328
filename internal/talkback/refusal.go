package talkback

import (
	"errors"
	"fmt"
)

// Refusal is an error the requester can act on: a typo, a missing argument,
// a guard that says no, a busy job. Reason is written for a chat user and is
// safe to show verbatim; nothing was run when a Refusal is returned.
type Refusal struct {
	Reason string
}

// Error implements error.
func (r *Refusal) Error() string { return r.Reason }

// refusef builds a Refusal with a formatted reason.
func refusef(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// IsRefusal reports whether err (or anything it wraps) is a Refusal, and
// returns it, so a caller can choose between showing and logging an error.
func IsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

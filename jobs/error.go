// Package jobs is the domain of cla: jobs, their gates (manual actions,
// approvals, pauses, traps), the job log, and the Service through which every
// door (Slack, HTTP API, CLI, web monitor, timers) changes them.
//
// It imports nothing of Slack, bbolt, net/http or expr: adapters translate.
package jobs

import (
	"errors"
	"fmt"
)

// Error codes are stable strings that adapters map to HTTP statuses, Slack
// answers and CLI exit codes.
const (
	ENOTFOUND  = "not_found"
	ECONFLICT  = "conflict"
	EFORBIDDEN = "forbidden"
	EINVALID   = "invalid"
	EINTERNAL  = "internal"
)

// Error is the one error type that crosses the domain boundary. Message is
// safe to show to the person who caused it.
type Error struct {
	Code    string
	Message string
	// Hint says what would allow a refused action (a flag, an assignee
	// list, a config key), for a person who is new to cla.
	Hint string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Errorf builds a domain error with a user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Forbidden builds an EFORBIDDEN error that teaches: hint says what would
// allow the action.
func Forbidden(hint, format string, args ...any) *Error {
	return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// ErrorHint returns the hint of the first domain error in err's chain.
func ErrorHint(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// ErrorCode returns the code of the first domain error in err's chain, or
// EINTERNAL for any other error (and "" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of a domain error, or a
// generic text for internal errors, whose details must only be logged.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

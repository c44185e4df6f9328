package notify

import "errors"

// PermanentError marks a failure that retrying cannot fix (a malformed
// address, a recipient the mail server refuses for good). The outbox
// settles such a notification and records the reason in the job log
// instead of retrying it forever.
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the outbox gives up on the notification.
func Permanent(err error) error { return &PermanentError{Err: err} }

func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

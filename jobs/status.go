package jobs

// Status is where a job stands.
type Status string

// Job statuses (SPEC §2). The last four are terminal.
const (
	StatusPending          Status = "pending"
	StatusInProgress       Status = "in_progress"
	StatusActionRequired   Status = "action_required"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusPaused           Status = "paused"
	StatusSuccessful       Status = "successful"
	StatusFailure          Status = "failure"
	StatusRejected         Status = "rejected"
	StatusCancelled        Status = "cancelled"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{
	StatusPending, StatusInProgress, StatusActionRequired, StatusAwaitingApproval,
	StatusPaused, StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether a job in s accepts only annotations and log lines.
func (s Status) Terminal() bool {
	switch s {
	case StatusSuccessful, StatusFailure, StatusRejected, StatusCancelled:
		return true
	}
	return false
}

// Waiting reports whether s means a gate is open and a person is needed.
func (s Status) Waiting() bool {
	switch s {
	case StatusActionRequired, StatusAwaitingApproval, StatusPaused:
		return true
	}
	return false
}

// CanTransition is the job state machine: it reports whether a job may go
// from one status to another. Staying in place is not a transition.
func CanTransition(from, to Status) bool {
	if from == to || from.Terminal() || !to.Valid() || to == StatusPending {
		return false
	}
	if from.Waiting() && to.Waiting() {
		return false // one gate at a time: a gate must close first
	}
	return true
}

// ValidID reports whether id is a well-formed job id such as "qa-1234":
// 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit
// (the regexp ^[a-z0-9][a-z0-9._-]{0,63}$, checked by hand: it runs on
// every request).
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

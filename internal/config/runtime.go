package config

import "runtime/debug"

// ServerGCPercent is the garbage collector's target (GOGC) that cla serve
// runs with unless GOGC is set. The server's live heap is small (tens of
// megabytes with 100k open gates), so a heap that may grow to five times
// it costs little memory, and the collector runs a quarter as often; its
// CPU goes to requests instead (README, "Performance").
const ServerGCPercent = 400

// TuneGC sets ServerGCPercent unless the operator chose a target with
// GOGC, and reports whether it did.
func TuneGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(ServerGCPercent)
	return true
}

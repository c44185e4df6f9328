package monitor

import (
	"net/http"

	"github.com/cla-ops/cla/jobs"
)

// Viewer says who is signed in on a request and the CSRF token their forms
// must carry, so that pages served beside the monitor (the sandbox Slack)
// use the same sign-in without a second one.
func (m *Monitor) Viewer(r *http.Request) (jobs.Identity, string, bool) {
	v, ok := m.session(r)
	if !ok {
		return jobs.Identity{}, "", false
	}
	return v.Identity, v.CSRF, true
}

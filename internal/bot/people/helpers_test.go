package people

import (
	"net/http"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// fixture is a Resolver on an emulated workspace with a movable clock.
// alice is configured by Slack id, erin by email only, dave not at all;
// alice and dave are in the Slack user group "sre".
type fixture struct {
	emu               *slackemu.Emulator
	r                 *Resolver
	alice, erin, dave slackemu.User
	wire              *holdTransport

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{emu: slackemu.NewTest(t, slackemu.Config{}), now: time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)}
	f.alice = f.emu.AddUser(slackemu.User{Email: "alice@example.com", Groups: []string{"sre"}})
	f.erin = f.emu.AddUser(slackemu.User{Email: "Erin@Example.com"})
	f.dave = f.emu.AddUser(slackemu.User{Email: "dave@example.com", Groups: []string{"sre"}})
	dir := jobs.NewDirectory([]jobs.Identity{
		{Name: "alice", Slack: f.alice.ID, Groups: []string{"ops"}},
		{Name: "erin", Email: "erin@example.com", Groups: []string{"ops"}},
		{Name: "frank", Email: "frank@example.com"},
		{Name: "gina"},
	})
	f.wire = &holdTransport{held: map[string]chan struct{}{}}
	api := slack.New(f.emu.BotToken(), slack.OptionAPIURL(f.emu.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: f.wire}))
	f.r = New(api, dir, nil)
	f.r.now = f.clock
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// advance moves the caches' clock.
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// calls counts the Web API calls of a method so far.
func (f *fixture) calls(method string) int { return len(f.emu.Calls(method)) }

// holdTransport is the resolver's way to Slack; a test can hold the calls
// of one method on the way until it lets them go, to look at what callers
// see while a call is in flight.
type holdTransport struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// hold stops calls of method before they leave until release is called.
func (h *holdTransport) hold(method string) (release func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	h.held[method] = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.held, method)
		h.mu.Unlock()
		close(ch)
	}
}

func (h *holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	ch := h.held[path.Base(r.URL.Path)]
	h.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

package people

import (
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
	api := slack.New(f.emu.BotToken(), slack.OptionAPIURL(f.emu.APIURL()))
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

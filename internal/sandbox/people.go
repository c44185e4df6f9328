package sandbox

import (
	"slices"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// Person is one of the sandbox's seeded people. Their Slack user ids are
// fixed, so a config file may map one to a configured identity explicitly
// (identities[].slack); nobody is ever matched by email (they have none).
type Person struct {
	Name     string   // handle and identity name: "alice"
	ID       string   // sandbox Slack user id
	RealName string   // shown on messages
	Groups   []string // Slack user groups and identity groups
	About    string   // what the switcher says about them
}

// People are the seeded people, in switcher order. alice and bob are in
// ops (they approve and act on the demo), carol is not (her clicks are
// refused), so one browser plays every role.
var People = []Person{
	{Name: "alice", ID: "USBXALICE1", RealName: "Alice Adams", Groups: []string{"ops"}, About: "ops: approves, acts"},
	{Name: "bob", ID: "USBXBOB001", RealName: "Bob Brown", Groups: []string{"ops"}, About: "ops: approves, acts"},
	{Name: "carol", ID: "USBXCAROL1", RealName: "Carol Clark", Groups: []string{"dev"}, About: "dev: not an assignee"},
}

// Seeded channels: everyone (and the bot) is in both.
const (
	ChannelGeneral = "general"
	ChannelDeploys = "deploys"
)

// PersonByName finds a seeded person.
func PersonByName(name string) (Person, bool) {
	i := slices.IndexFunc(People, func(p Person) bool { return p.Name == name })
	if i < 0 {
		return Person{}, false
	}
	return People[i], true
}

// Seed adds the people and the #general and #deploys channels to the
// workspace. It is idempotent, so it runs after a restored snapshot too.
func Seed(emu *slackemu.Emulator) {
	members := []string{emu.BotUserID()}
	for _, p := range People {
		emu.AddUser(slackemu.User{ID: p.ID, Name: p.Name, RealName: p.RealName, Groups: p.Groups, TZ: "UTC"})
		members = append(members, p.ID)
	}
	emu.AddChannel(slackemu.Channel{Name: ChannelGeneral, Members: members, Topic: "Say hello, try @cla help"})
	emu.AddChannel(slackemu.Channel{Name: ChannelDeploys, Members: members, Topic: "Approvals land here"})
}

// Identities are the identities the sandbox people act as, to add to the
// directory: one per person (named after them, or "sandbox-<name>" when a
// configured identity already has that name), with their groups — except
// where a configured identity maps the person's Slack id explicitly: then
// that identity is theirs and nothing is added.
func Identities(configured []jobs.Identity) []jobs.Identity {
	var out []jobs.Identity
	for _, p := range People {
		if slices.ContainsFunc(configured, func(id jobs.Identity) bool { return id.Slack == p.ID }) {
			continue
		}
		name := p.Name
		if slices.ContainsFunc(configured, func(id jobs.Identity) bool { return id.Name == name }) {
			name = "sandbox-" + p.Name
		}
		out = append(out, jobs.Identity{Name: name, Slack: p.ID, Groups: slices.Clone(p.Groups)})
	}
	return out
}

package slackemu

import (
	"context"
	"testing"
)

// BenchmarkEmulator_EventRoundTrip measures a human message travelling to
// the slack-go socketmode client and its ack coming back.
func BenchmarkEmulator_EventRoundTrip(b *testing.B) {
	emu := NewTest(b, fastConfig())
	newTestBot(b, emu, nil)
	if err := emu.WaitConnections(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	alice := emu.AddUser(User{Name: "alice"})
	ch := emu.AddChannel(Channel{Name: "bench", Members: []string{alice.ID, emu.BotUserID()}})
	b.ResetTimer()
	for b.Loop() {
		if _, err := emu.PostMessage(alice.ID, ch.ID, "hi"); err != nil {
			b.Fatal(err)
		}
		if err := emu.WaitIdle(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

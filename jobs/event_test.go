package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBroker_Watch(t *testing.T) {
	b := NewBroker()
	ch1, release1 := b.Watch("a")
	ch2, release2 := b.Watch("a")
	_, releaseB := b.Watch("b")
	require.Equal(t, 2, b.watching())

	releaseB()
	releaseB() // twice is harmless
	require.Equal(t, 1, b.watching(), "a released watch is forgotten")

	release1()
	require.Equal(t, 1, b.watching(), "one holder of a is still waiting")
	b.Publish(Event{Type: EventJobUpdated, Job: &Job{ID: "a"}})
	select {
	case <-ch2:
	default:
		t.Fatal("the remaining watcher was not woken")
	}
	select {
	case <-ch1:
	default:
		t.Fatal("the shared channel is closed for everyone")
	}
	release2() // after the event: nothing left to delete, nothing breaks
	require.Equal(t, 0, b.watching())

	next, release := b.Watch("a")
	defer release()
	select {
	case <-next:
		t.Fatal("a new watch starts open")
	default:
	}
}

func TestBroker_Wake(t *testing.T) {
	b := NewBroker()
	a, releaseA := b.Watch("a")
	defer releaseA()
	other, releaseB := b.Watch("b")
	defer releaseB()
	all := b.WatchAll()
	sub := b.Subscribe("test", 1)
	defer sub.Close()
	b.Wake("a")
	for name, ch := range map[string]<-chan struct{}{"a": a, "all": all} {
		select {
		case <-ch:
		default:
			t.Fatalf("%s not woken", name)
		}
	}
	select {
	case <-other:
		t.Fatal("another job's watcher woke")
	case e := <-sub.Events:
		t.Fatalf("a wake is not an event, got %v", e.Type)
	default:
	}
	b.WakeAll()
	select {
	case <-other:
	default:
		t.Fatal("WakeAll left a watcher asleep")
	}
}

// TestBroker_SlowSubscriber: events a subscriber has no room for are
// counted, never block the publisher, and leave one resync signal; a fast
// subscriber beside it misses nothing.
func TestBroker_SlowSubscriber(t *testing.T) {
	b := NewBroker()
	counted := map[string]int{}
	b.OnDrop(func(name string) { counted[name]++ })
	slow := b.Subscribe("slow", 2)
	defer slow.Close()
	fast := b.Subscribe("fast", 16)
	defer fast.Close()
	for i := range 5 {
		b.Publish(Event{Type: EventJobUpdated, Job: &Job{ID: "a", Version: uint64(i)}})
	}
	require.Equal(t, uint64(3), slow.Dropped())
	require.Equal(t, uint64(0), fast.Dropped())
	require.Equal(t, uint64(3), b.Dropped())
	require.Equal(t, map[string]int{"slow": 3}, counted, "every drop is counted by subscriber")
	select {
	case <-slow.Resync:
	default:
		t.Fatal("the slow subscriber was not told to resync")
	}
	select {
	case <-slow.Resync:
		t.Fatal("drops before one read need one resync, not several")
	default:
	}
	require.Len(t, fast.Events, 5)
	select {
	case <-fast.Resync:
		t.Fatal("a subscriber that kept up must not resync")
	default:
	}
	require.Equal(t, uint64(0), (<-slow.Events).Job.Version, "what was queued stays in order")

	slow.Close()
	slow.Close() // twice is harmless
	b.Publish(Event{Type: EventJobUpdated, Job: &Job{ID: "a"}})
	require.Equal(t, uint64(3), b.Dropped(), "a closed subscription is not counted")
}

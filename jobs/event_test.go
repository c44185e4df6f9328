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
	events, stop := b.Subscribe(1)
	defer stop()
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
	case e := <-events:
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

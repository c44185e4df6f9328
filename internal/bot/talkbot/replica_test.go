package talkbot

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
)

// sharedStores gives, per store kind, two handles on one database as two
// replicas would hold them: the same bbolt handle (one process may open
// the file), or two PostgreSQL connection pools.
func sharedStores(t *testing.T) map[string]func(t *testing.T) (jobs.Store, jobs.Store) {
	return map[string]func(t *testing.T) (jobs.Store, jobs.Store){
		"bbolt": func(t *testing.T) (jobs.Store, jobs.Store) {
			db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db, db
		},
		"postgres": func(t *testing.T) (jobs.Store, jobs.Store) {
			url := pgtest.FreshURL(t)
			open := func() jobs.Store {
				db, err := pgstore.Open(context.Background(), url, pgstore.Options{})
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			return open(), open()
		},
	}
}

// TestHandler_Click_OtherReplica: a confirm message posted by replica A is
// confirmed through replica B (Slack gave B the click); it runs once, and
// a late click on A is told who confirmed it.
func TestHandler_Click_OtherReplica(t *testing.T) {
	for name, open := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			f := newFixtureOn(t, true, a)
			msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
			replicaB := f.replica(b)
			require.NoError(t, replicaB.Click(f.ctx, Click{UserID: bob, ChannelID: f.channel, MessageTS: msg.TS,
				ActionID: ActionConfirm, Value: id}))
			require.Equal(t, [][]string{{"wipe", "db"}}, f.runs())
			require.Contains(t, f.current(msg).Text, "Confirmed by <@"+bob+">")
			confirmed, ok := phase(f.talkLog(), "confirmed")
			require.True(t, ok)
			require.Equal(t, "bob", confirmed.Actor)

			f.click(carol, ActionConfirm, msg, id)
			require.Contains(t, lastTold(f, carol), "already confirmed by <@"+bob+">")
			require.Len(t, f.runs(), 1)
		})
	}
}

// TestHandler_Click_ReplicasRace: clicks on one request spread over two
// replicas at the same moment run it once, and every other clicker is told.
func TestHandler_Click_ReplicasRace(t *testing.T) {
	for name, open := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			f := newFixtureOn(t, true, a)
			msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
			handlers := []*Handler{f.h, f.replica(b)}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, u := range []string{bob, carol, bob, carol} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_ = handlers[i%2].Click(f.ctx, Click{UserID: u, ChannelID: f.channel, MessageTS: msg.TS,
						ActionID: ActionConfirm, Value: id})
				}()
			}
			close(start)
			wg.Wait()
			require.Len(t, f.runs(), 1, "a request runs at most once across replicas")
			require.Equal(t, 3, len(f.ephemerals(bob))+len(f.ephemerals(carol)))
		})
	}
}

// TestHandler_Click_AfterRestart: a request asked before a restart (the
// bbolt file closed and opened again by a new handler) is confirmed after
// it, and a Cancel click after that changes nothing.
func TestHandler_Click_AfterRestart(t *testing.T) {
	f := newFixture(t, true)
	msg, id := f.askConfirm(f.ask(alice, f.channel, "wipe target=db"))
	require.NoError(t, f.svc.Store().(*store.DB).Close())
	db, err := store.Open(f.dbPath)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	restarted := f.replica(db)
	f.svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{}) // the fixture reads the log through it
	require.NoError(t, restarted.Click(f.ctx, Click{UserID: bob, ChannelID: f.channel, MessageTS: msg.TS,
		ActionID: ActionConfirm, Value: id}))
	require.Equal(t, [][]string{{"wipe", "db"}}, f.runs())
	_, ok := phase(f.talkLog(), "finished")
	require.True(t, ok)
	require.NoError(t, restarted.Click(f.ctx, Click{UserID: alice, ChannelID: f.channel, MessageTS: msg.TS,
		ActionID: ActionCancel, Value: id}))
	require.Contains(t, lastTold(f, alice), "already confirmed")
	require.Len(t, f.runs(), 1)
}

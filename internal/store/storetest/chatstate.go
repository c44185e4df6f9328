package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// chatState returns the store's jobs.ChatState: every store must have one.
func chatState(t *testing.T, db jobs.Store) jobs.ChatState {
	t.Helper()
	cs, ok := db.(jobs.ChatState)
	require.True(t, ok, "%T does not implement jobs.ChatState", db)
	return cs
}

func confirmation(id string, expires time.Time) jobs.Confirmation {
	return jobs.Confirmation{ID: id, JobID: "j1", Channel: "C1", Thread: "1.5", Requester: "U1", RequesterName: "alice",
		Action: "wipe", Args: map[string]string{"target": "db"}, Argv: []string{"wipe", "db"},
		CreatedAt: expires.Add(-time.Minute), Expires: expires}
}

func testConfirmations(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	cs := chatState(t, db)
	c := confirmation("r1", T0.Add(time.Minute))
	require.NoError(t, cs.PutConfirmation(ctx, c))
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(cs.PutConfirmation(ctx, c)), "an id is used once")
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(cs.PutConfirmation(ctx, jobs.Confirmation{})))
	got, err := cs.Confirmation(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, c, got)
	_, err = cs.Confirmation(ctx, "nope")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	_, err = cs.SettleConfirmation(ctx, "nope", "confirmed", T0)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))

	settled, err := cs.SettleConfirmation(ctx, "r1", "confirmed by bob", T0)
	require.NoError(t, err)
	require.Equal(t, "confirmed by bob", settled.Outcome)
	require.True(t, T0.Equal(settled.SettledAt))
	again, err := cs.SettleConfirmation(ctx, "r1", "cancelled by carol", T0)
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "spent once")
	require.Equal(t, "confirmed by bob", again.Outcome, "the loser learns how it ended")

	require.NoError(t, cs.PutConfirmation(ctx, confirmation("r2", T0.Add(time.Minute))))
	late, err := cs.SettleConfirmation(ctx, "r2", "confirmed", T0.Add(time.Minute))
	require.Equal(t, jobs.ECONFLICT, jobs.ErrorCode(err), "an expired request cannot be settled")
	require.Empty(t, late.Outcome)

	require.NoError(t, cs.PutConfirmation(ctx, confirmation("r3", T0.Add(time.Hour))))
	n, err := cs.PruneConfirmations(ctx, T0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 2, n, "settled and expired ones go")
	for id, want := range map[string]string{"r1": jobs.ENOTFOUND, "r2": jobs.ENOTFOUND, "r3": ""} {
		_, err := cs.Confirmation(ctx, id)
		require.Equal(t, want, jobs.ErrorCode(err), id)
	}
	n, err = cs.PruneConfirmations(ctx, T0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n)
}

func testConfirmationConcurrentSettle(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	cs := chatState(t, db)
	require.NoError(t, cs.PutConfirmation(ctx, confirmation("r1", T0.Add(time.Hour))))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := cs.SettleConfirmation(ctx, "r1", "confirmed", T0)
			mu.Lock()
			defer mu.Unlock()
			switch jobs.ErrorCode(err) {
			case "":
				won++
			case jobs.ECONFLICT:
				lost++
			default:
				t.Errorf("settle: %v", err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, won, "exactly one settles")
	require.Equal(t, 7, lost)
}

func testHomes(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	cs := chatState(t, db)
	exp := T0.Add(time.Hour)
	homes := func(job string, keys ...string) []string {
		t.Helper()
		got, err := cs.HomesFor(ctx, job, keys, T0)
		require.NoError(t, err)
		return got
	}
	ok, err := cs.PutHome(ctx, jobs.HomeView{User: "U1", Keys: []string{"user:alice"}, Expires: exp}, false)
	require.NoError(t, err)
	require.False(t, ok, "an update does not subscribe")
	require.Empty(t, homes(""))
	_, err = cs.PutHome(ctx, jobs.HomeView{}, true)
	require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))

	for _, h := range []jobs.HomeView{
		{User: "U1", Keys: []string{"user:alice", "group:ops"}, Expires: exp},
		{User: "U2", Keys: []string{"user:bob", "group:ops"}, Jobs: []string{"j1"}, Expires: exp},
		{User: "U3", Keys: []string{"user:carol"}, Jobs: []string{"j2"}, Expires: T0.Add(time.Minute)},
	} {
		ok, err := cs.PutHome(ctx, h, true)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, []string{"U1", "U2", "U3"}, homes(""))
	require.Equal(t, []string{"U1", "U2"}, homes("", "group:ops"))
	require.Equal(t, []string{"U2"}, homes("j1"))
	require.Equal(t, []string{"U2", "U3"}, homes("j1", "user:carol"))
	require.Empty(t, homes("j9", "user:zed"))

	// An update moves the index entries and keeps the expiry; nil Jobs
	// keeps the jobs shown.
	ok, err = cs.PutHome(ctx, jobs.HomeView{User: "U2", Keys: []string{"user:bob"}, Expires: T0}, false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []string{"U1"}, homes("", "group:ops"))
	require.Equal(t, []string{"U2"}, homes("j1"), "still unexpired, still showing j1")
	_, err = cs.PutHome(ctx, jobs.HomeView{User: "U2", Keys: []string{"user:bob"}, Jobs: []string{"j3"}}, false)
	require.NoError(t, err)
	require.Empty(t, homes("j1"))
	require.Equal(t, []string{"U2"}, homes("j3"))

	got, err := cs.HomesFor(ctx, "j2", nil, T0.Add(time.Minute))
	require.NoError(t, err)
	require.Empty(t, got, "an expired home is not refreshed")
	n, err := cs.PruneHomes(ctx, T0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"U1", "U2"}, homes(""))
	ok, err = cs.PutHome(ctx, jobs.HomeView{User: "U3", Jobs: []string{"j2"}}, false)
	require.NoError(t, err)
	require.False(t, ok, "a pruned home is gone")
}

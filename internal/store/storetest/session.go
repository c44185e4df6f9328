package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func session(id, identity string, created time.Time, ttl time.Duration) jobs.Session {
	return jobs.Session{ID: id, Identity: identity, CreatedAt: created, LastSeen: created,
		ExpiresAt: created.Add(ttl), UserAgent: "Firefox/140", IP: "192.0.2.7"}
}

func sessionIDs(ss []jobs.Session) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func testSessions(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	a1 := session("s-a1", "alice", T0, time.Hour)
	a2 := session("s-a2", "alice", T0.Add(time.Minute), time.Hour)
	b1 := session("s-b1", "bob", T0, time.Hour)
	for _, s := range []jobs.Session{a1, a2, b1} {
		require.NoError(t, db.PutSession(ctx, s))
	}
	got, err := db.GetSession(ctx, "s-a1")
	require.NoError(t, err)
	require.Equal(t, "alice", got.Identity)
	require.True(t, got.ExpiresAt.Equal(a1.ExpiresAt))
	require.Equal(t, "Firefox/140", got.UserAgent)

	list, err := db.ListSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"s-a2", "s-a1"}, sessionIDs(list), "newest first, only alice's")
	list, err = db.ListSessions(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, list)

	seen := T0.Add(30 * time.Minute)
	require.NoError(t, db.TouchSession(ctx, "s-a1", seen))
	got, err = db.GetSession(ctx, "s-a1")
	require.NoError(t, err)
	require.True(t, got.LastSeen.Equal(seen), "last seen moves: %v", got.LastSeen)
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.TouchSession(ctx, "s-none", seen)))

	require.NoError(t, db.DeleteSession(ctx, "s-a1"))
	_, err = db.GetSession(ctx, "s-a1")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "a revoked session is gone")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(db.DeleteSession(ctx, "s-a1")), "revoking twice")
	list, err = db.ListSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"s-a2"}, sessionIDs(list))

	n, err := db.DeleteSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	list, err = db.ListSessions(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = db.GetSession(ctx, "s-b1")
	require.NoError(t, err, "another identity's sessions stay")
}

func testSessionsPrune(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	short := session("s-short", "alice", T0, time.Minute)
	long := session("s-long", "alice", T0, time.Hour)
	other := session("s-other", "bob", T0, 2*time.Minute)
	for _, s := range []jobs.Session{short, long, other} {
		require.NoError(t, db.PutSession(ctx, s))
	}
	// Replacing a session moves its expiry entry: the old one must not
	// prune the renewed record.
	other.ExpiresAt = T0.Add(2 * time.Hour)
	require.NoError(t, db.PutSession(ctx, other))

	n, err := db.PruneSessions(ctx, T0.Add(30*time.Second))
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")
	n, err = db.PruneSessions(ctx, T0.Add(5*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the expired session goes")
	_, err = db.GetSession(ctx, "s-short")
	require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err))
	for _, id := range []string{"s-long", "s-other"} {
		_, err = db.GetSession(ctx, id)
		require.NoError(t, err, id)
	}
	list, err := db.ListSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"s-long"}, sessionIDs(list), "the identity index forgets pruned sessions")
	n, err = db.PruneSessions(ctx, T0.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

package people

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

func TestResolver_Identity(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name      string
		user      string
		want      jobs.Identity
		userInfos int // users.info calls this case adds
	}{
		{name: "configured by slack id needs no users.info", user: f.alice.ID,
			want: jobs.Identity{Name: "alice", Slack: f.alice.ID, Groups: []string{"ops", "sre"}}},
		{name: "configured by email, matched case-insensitively", user: f.erin.ID, userInfos: 1,
			want: jobs.Identity{Name: "erin", Email: "erin@example.com", Slack: f.erin.ID, Groups: []string{"ops"}}},
		{name: "unconfigured acts as slack:<U> with slack's email and groups", user: f.dave.ID, userInfos: 1,
			want: jobs.Identity{Name: "slack:" + f.dave.ID, Email: "dave@example.com", Slack: f.dave.ID, Groups: []string{"sre"}}},
		{name: "cached on the second ask", user: f.dave.ID,
			want: jobs.Identity{Name: "slack:" + f.dave.ID, Email: "dave@example.com", Slack: f.dave.ID, Groups: []string{"sre"}}},
		{name: "empty user asks nothing", user: "", want: jobs.Identity{Name: "slack:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.calls("users.info")
			id, err := f.r.Identity(t.Context(), tc.user)
			require.NoError(t, err)
			require.Equal(t, tc.want, id)
			require.Equal(t, before+tc.userInfos, f.calls("users.info"))
		})
	}
	require.Equal(t, 1, f.calls("usergroups.list"), "one usergroups.list serves everyone")
}

func TestResolver_Identity_Expiry(t *testing.T) {
	f := newFixture(t)
	_, err := f.r.Identity(t.Context(), f.dave.ID)
	require.NoError(t, err)
	f.emu.AddUserGroup(slackemu.UserGroup{Handle: "dba", Users: []string{f.dave.ID}})
	f.advance(groupsTTL - time.Second)
	id, err := f.r.Identity(t.Context(), f.dave.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"sre"}, id.Groups, "group membership is reused within its TTL")
	f.advance(2 * time.Second)
	// The background reload is held on its way to Slack: on a loaded
	// machine it could otherwise finish before the answer was read.
	release := f.wire.hold("usergroups.list")
	id, err = f.r.Identity(t.Context(), f.dave.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"sre"}, id.Groups, "past its TTL it is still answered at once")
	release()
	require.Eventually(t, func() bool {
		id, err := f.r.Identity(t.Context(), f.dave.ID)
		return err == nil && len(id.Groups) == 2
	}, 30*time.Second, 5*time.Millisecond, "and reloaded in the background")
	require.ElementsMatch(t, []string{"sre", "dba"}, f.r.Cached(f.dave.ID).Groups)
	require.Equal(t, 2, f.calls("usergroups.list"), "one reload however many ask")
	require.Equal(t, 1, f.calls("users.info"), "the email is still trusted")
	f.advance(identityTTL)
	_, err = f.r.Identity(t.Context(), f.dave.ID)
	require.NoError(t, err)
	require.Equal(t, 2, f.calls("users.info"), "the email is asked again after its TTL")
}

func TestResolver_Identity_Concurrent(t *testing.T) {
	f := newFixture(t)
	f.emu.InjectFault("users.info", slackemu.Fault{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	ids := make([]jobs.Identity, 16)
	for i := range ids {
		wg.Go(func() {
			id, err := f.r.Identity(t.Context(), f.erin.ID)
			if err == nil {
				ids[i] = id
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, "erin", id.Name)
	}
	require.Equal(t, 1, f.calls("users.info"), "concurrent askers share one call")
	require.Equal(t, 1, f.calls("usergroups.list"))
}

func TestResolver_Identity_SlackFails(t *testing.T) {
	cases := []struct {
		name  string
		fault slackemu.Fault
		calls int // users.info calls of the first ask
		ok    bool
	}{
		{name: "slack error", fault: slackemu.Fault{Error: "fatal_error", Times: 1}, calls: 1},
		{name: "server error", fault: slackemu.Fault{Status: 503, Times: 1}, calls: 1},
		{name: "429 is waited out", fault: slackemu.Fault{Status: 429, RetryAfter: time.Second, Times: 1}, calls: 2, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.emu.InjectFault("users.info", tc.fault)
			id, err := f.r.Identity(t.Context(), f.erin.ID)
			require.Equal(t, tc.calls, f.calls("users.info"))
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, "erin", id.Name)
				return
			}
			require.ErrorContains(t, err, "users.info "+f.erin.ID)
			require.Equal(t, "slack:"+f.erin.ID, id.Name, "the bare identity is still usable")
			require.Equal(t, f.erin.ID, id.Slack)
			id, err = f.r.Identity(t.Context(), f.erin.ID)
			require.NoError(t, err, "a failure is not cached")
			require.Equal(t, "erin", id.Name)
			require.Equal(t, tc.calls+1, f.calls("users.info"))
		})
	}
}

func TestResolver_Identity_CallerContext(t *testing.T) {
	f := newFixture(t)
	// The product's look-up timeout (5 s), not a shorter one: the fresh
	// calls below must fit in it on a loaded machine under -race, where a
	// 200 ms bound failed healthy calls.
	require.Equal(t, lookupTimeout, f.r.timeout)
	f.emu.InjectFault("users.info", slackemu.Fault{Latency: time.Minute, Times: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id, err := f.r.Identity(ctx, f.erin.ID)
	require.ErrorIs(t, err, context.Canceled, "a caller stops waiting when its context ends")
	require.Equal(t, "slack:"+f.erin.ID, id.Name)
	// The slow call goes on without the caller, bounded by the lookup
	// timeout: a second asker may still share its failure.
	if _, err = f.r.Identity(t.Context(), f.erin.ID); err != nil {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	id, err = f.r.Identity(t.Context(), f.erin.ID)
	require.NoError(t, err, "once the slow call timed out, a fresh one is made")
	require.Equal(t, "erin", id.Name)
}

func TestResolver_Identity_GroupsFail(t *testing.T) {
	f := newFixture(t)
	f.emu.InjectFault("usergroups.list", slackemu.Fault{Error: "missing_scope", Times: 1})
	id, err := f.r.Identity(t.Context(), f.alice.ID)
	require.NoError(t, err, "groups failing is not the person's problem")
	require.Equal(t, []string{"ops"}, id.Groups, "configured groups only")
	id, err = f.r.Identity(t.Context(), f.alice.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"ops", "sre"}, id.Groups, "a failure is not cached")
	f.advance(groupsTTL + time.Second)
	f.emu.InjectFault("usergroups.list", slackemu.Fault{Status: 503})
	id, err = f.r.Identity(t.Context(), f.alice.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"ops", "sre"}, id.Groups)
	require.Eventually(t, func() bool { return f.calls("usergroups.list") == 3 && !f.r.groups.reloading.Load() },
		30*time.Second, 5*time.Millisecond, "the background reload ran")
	require.Equal(t, []string{"ops", "sre"}, f.r.Cached(f.alice.ID).Groups, "the last known membership is kept")
}

func TestResolver_Name(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, "alice", f.r.Name(t.Context(), f.alice.ID))
	require.Equal(t, "erin", f.r.Name(t.Context(), f.erin.ID))
	f.emu.InjectFault("users.info", slackemu.Fault{Error: "fatal_error", Times: 1})
	require.Equal(t, "slack:"+f.dave.ID, f.r.Name(t.Context(), f.dave.ID), "slack failing leaves the bare name")
	require.Zero(t, f.calls("usergroups.list"), "names need no groups")
}

func TestResolver_Cached(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, jobs.Identity{Name: "slack:" + f.erin.ID, Slack: f.erin.ID}, f.r.Cached(f.erin.ID),
		"nothing known yet")
	require.Equal(t, "alice", f.r.Cached(f.alice.ID).Name, "configured ids need no cache")
	_, err := f.r.Identity(t.Context(), f.erin.ID)
	require.NoError(t, err)
	calls := len(f.emu.Calls(""))
	require.Equal(t, "erin", f.r.Cached(f.erin.ID).Name)
	require.Equal(t, []string{"ops", "sre"}, f.r.Cached(f.alice.ID).Groups, "groups come from the last load")
	require.Equal(t, calls, len(f.emu.Calls("")), "Cached never calls slack")
}

func TestNew_Defaults(t *testing.T) {
	r := New(nil, nil, nil)
	require.Equal(t, jobs.Identity{Name: "slack:U0X", Slack: "U0X"}, r.Cached("U0X"))
	require.NotNil(t, r.Directory())
	require.Equal(t, "U0X", r.SlackID(t.Context(), "slack:U0X"))
}

package slackemu

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmulator_SaveFileLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ws.json")
	a := NewTest(t, Config{})
	alice := a.AddUser(User{ID: "UALICE0001", Name: "alice", Groups: []string{"ops"}})
	ch := a.AddChannel(Channel{Name: "general", Members: []string{alice.ID, a.BotUserID()}})
	ts, err := a.PostMessage(alice.ID, ch.ID, "hello @alice")
	require.NoError(t, err)
	_, err = a.PostReply(alice.ID, ch.ID, ts, "in the thread")
	require.NoError(t, err)
	require.NoError(t, a.EditMessage(ch.ID, ts, "hello again"))
	require.NoError(t, a.SaveFile(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	b := NewTest(t, Config{})
	found, err := b.LoadFile(path)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, a.Messages(ch.ID), b.Messages(ch.ID))
	got, ok := b.ChannelByName("general")
	require.True(t, ok)
	require.Equal(t, ch.Members, got.Members)
	u, ok := b.User(alice.ID)
	require.True(t, ok)
	require.Equal(t, []string{"ops"}, u.Groups)
	// New ids and timestamps do not collide with restored ones.
	next := b.AddChannel(Channel{Name: "deploys"})
	require.NotEqual(t, ch.ID, next.ID)
	ts2, err := b.PostMessage(alice.ID, ch.ID, "after restart")
	require.NoError(t, err)
	require.Greater(t, ts2, ts)

	t.Run("missing file", func(t *testing.T) {
		found, err := NewTest(t, Config{}).LoadFile(filepath.Join(t.TempDir(), "none.json"))
		require.NoError(t, err)
		require.False(t, found)
	})
	for name, data := range map[string]string{"corrupt": "{not json", "other version": `{"version": 99}`} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.json")
			require.NoError(t, os.WriteFile(bad, []byte(data), 0o600))
			c := NewTest(t, Config{})
			c.AddChannel(Channel{Name: "keep"})
			_, err := c.LoadFile(bad)
			require.Error(t, err)
			_, ok := c.ChannelByName("keep")
			require.True(t, ok, "a refused snapshot changes nothing")
		})
	}
}

func TestEmulator_Trim(t *testing.T) {
	e := NewTest(t, Config{})
	u := e.AddUser(User{Name: "alice"})
	ch := e.AddChannel(Channel{Name: "general", Members: []string{u.ID}})
	for range 5 {
		_, err := e.PostMessage(u.ID, ch.ID, "x")
		require.NoError(t, err)
	}
	e.mu.Lock()
	for range 10 {
		e.ephemerals = append(e.ephemerals, Ephemeral{User: u.ID})
	}
	e.mu.Unlock()
	e.Trim(3)
	require.Len(t, e.Ephemerals(""), 3)
	require.Len(t, e.Messages(ch.ID), 5, "history is kept")
}

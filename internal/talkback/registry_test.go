package talkback

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistry_Reload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talkback.yaml")
	require.NoError(t, os.WriteFile(path, []byte(base), 0o600))
	reg := NewRegistry(nil, nil)
	_, err := reg.Current().Prepare(Request{Action: "restart"}, Env{})
	require.EqualError(t, err, "TalkBack is not configured on this server")

	require.NoError(t, reg.Reload(path))
	first := reg.Current()
	_, ok := first.Lookup("restart")
	require.True(t, ok)

	require.NoError(t, os.WriteFile(path, []byte(replace(base, "user.id", "usr.id")), 0o600))
	err = reg.Reload(path)
	require.ErrorContains(t, err, "talkback.yaml:6: action \"restart\": when: unknown name usr")
	require.Same(t, first, reg.Current(), "a bad file keeps the old list")

	require.Error(t, reg.Reload(filepath.Join(t.TempDir(), "missing.yaml")))
	require.Same(t, first, reg.Current())

	require.NoError(t, os.WriteFile(path, []byte(replace(base, "name: restart", "name: bounce")), 0o600))
	require.NoError(t, reg.Reload(path))
	_, ok = reg.Current().Lookup("bounce")
	require.True(t, ok, "a good file replaces the list")
	_, ok = reg.Current().Lookup("restart")
	require.False(t, ok)
}

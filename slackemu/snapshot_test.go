package slackemu

import (
	"io"
	"net/http"
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

// TestEmulator_SaveFileContents: shared files' bytes are kept beside the
// snapshot (not in it), served again after a restore, and bounded by
// MaxFileBytes (the oldest lose their bytes first, and their kept copy goes).
func TestEmulator_SaveFileContents(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ws.json")
	a := NewTest(t, Config{MaxFileBytes: 10})
	alice := a.AddUser(User{ID: "UALICE0001", Name: "alice"})
	ch := a.AddChannel(Channel{Name: "general", Members: []string{alice.ID, a.BotUserID()}})
	old, _, err := a.ShareFile(alice.ID, ch.ID, File{Name: "old.txt", Content: []byte("123456")}, "")
	require.NoError(t, err)
	require.Nil(t, old.Content, "messages carry no bytes")
	f, _, err := a.ShareFile(alice.ID, ch.ID, File{Name: "new.txt", Content: []byte("abcd")}, "")
	require.NoError(t, err)
	require.NoError(t, a.SaveFile(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(data), "YWJjZA", "the bytes are not in the JSON")
	kept, err := os.ReadFile(filepath.Join(FilesDir(path), f.ID))
	require.NoError(t, err)
	require.Equal(t, "abcd", string(kept))
	require.Equal(t, filepath.Join(dir, "ws.files"), FilesDir(path))

	b := NewTest(t, Config{MaxFileBytes: 10})
	found, err := b.LoadFile(path)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "abcd", download(t, b, f))
	require.Equal(t, "123456", download(t, b, old))

	// A third file passes the 10-byte cap: the oldest loses its bytes, in
	// memory and on disk at the next save.
	third, _, err := b.ShareFile(alice.ID, ch.ID, File{Name: "third.txt", Content: []byte("xyz")}, "")
	require.NoError(t, err)
	require.Equal(t, "xyz", download(t, b, third))
	require.Equal(t, http.StatusNotFound, downloadStatus(t, b, old))
	_, ok := b.FileContent(old.ID)
	require.False(t, ok, "no bytes kept")
	kept3, ok := b.FileContent(third.ID)
	require.True(t, ok)
	require.Equal(t, "xyz", string(kept3.Content))
	_, ok = b.FileContent("FNOSUCHFILE")
	require.False(t, ok)
	require.NoError(t, b.SaveFile(path))
	_, err = os.Stat(filepath.Join(FilesDir(path), old.ID))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(FilesDir(path), third.ID))
	require.NoError(t, err)

	// A missing or truncated kept copy leaves the file without bytes.
	require.NoError(t, os.WriteFile(filepath.Join(FilesDir(path), third.ID), []byte("x"), 0o600))
	c := NewTest(t, Config{})
	_, err = c.LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, downloadStatus(t, c, third))
	require.Equal(t, "abcd", download(t, c, f))
}

// TestRemoveTemp: the temporary files of an interrupted save are removed
// at load, and nothing else is.
func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ws.json")
	e := NewTest(t, Config{})
	alice := e.AddUser(User{ID: "UALICE0001", Name: "alice"})
	ch := e.AddChannel(Channel{Name: "general", Members: []string{alice.ID}})
	_, _, err := e.ShareFile(alice.ID, ch.ID, File{Name: "a.txt", Content: []byte("a")}, "")
	require.NoError(t, err)
	require.NoError(t, e.SaveFile(path))
	stale := []string{filepath.Join(dir, ".ws.json.tmp-123"), filepath.Join(FilesDir(path), ".F1.tmp-9")}
	keep := []string{filepath.Join(dir, "other.json"), filepath.Join(dir, ".ws.json.bak")}
	for _, p := range append(stale, keep...) {
		require.NoError(t, os.WriteFile(p, []byte("half"), 0o600))
	}
	found, err := NewTest(t, Config{}).LoadFile(path)
	require.NoError(t, err)
	require.True(t, found)
	for _, p := range stale {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	for _, p := range keep {
		_, err := os.Stat(p)
		require.NoError(t, err, p)
	}
	n, err := RemoveTemp(path)
	require.NoError(t, err)
	require.Zero(t, n)
}

func downloadStatus(t *testing.T, e *Emulator, f File) int {
	t.Helper()
	req, err := http.NewRequest("GET", e.URL()+"/files/"+f.User+"/"+f.ID+"/"+f.Name, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.BotToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func download(t *testing.T, e *Emulator, f File) string {
	t.Helper()
	req, err := http.NewRequest("GET", e.URL()+"/files/"+f.User+"/"+f.ID+"/"+f.Name, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.BotToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

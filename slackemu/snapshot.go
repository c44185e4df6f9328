package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// snapshotVersion is written in every snapshot; Restore refuses others.
const snapshotVersion = 1

// snapshot is the durable part of a workspace: people, groups, channels
// with their history, ephemerals, views and files. Connections, envelopes,
// triggers and response_urls are short-lived and are not kept.
type snapshot struct {
	Version    int               `json:"version"`
	Seq        int               `json:"seq"`
	ClockLast  int64             `json:"clockLast"`
	Users      []User            `json:"users"`
	Groups     []UserGroup       `json:"groups"`
	Channels   []snapChannel     `json:"channels"`
	DMs        map[string]string `json:"dms"`
	Ephemerals []Ephemeral       `json:"ephemerals"`
	Views      []View            `json:"views"`
	Homes      map[string]string `json:"homes"`
	Files      map[string]File   `json:"files"`
}

// snapChannel is a channel with its history.
type snapChannel struct {
	Channel
	Created  int64         `json:"created"`
	IMUser   string        `json:"imUser,omitempty"`
	Messages []snapMessage `json:"messages"`
}

// snapMessage is a stored message with its hidden fields.
type snapMessage struct {
	Message
	ClientMsgID string `json:"clientMsgId,omitempty"`
	EditedBy    string `json:"editedBy,omitempty"`
	Inviter     string `json:"inviter,omitempty"`
	NoBlocks    bool   `json:"noBlocks,omitempty"`
}

// Snapshot returns the workspace's durable state as JSON, for Restore in
// a later process, shared files' bytes included.
func (e *Emulator) Snapshot() ([]byte, error) {
	s, _ := e.snapshot(true)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode slack snapshot: %w", err)
	}
	return b, nil
}

// snapshot copies the durable state; without content, files' bytes are
// left out of it and returned by file id instead (never mutated once
// stored, so they may be written out after the lock is released).
func (e *Emulator) snapshot(withContent bool) (snapshot, map[string][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := snapshot{Version: snapshotVersion, Seq: e.seq, ClockLast: e.clock.last, DMs: e.dms,
		Homes: e.homes, Files: map[string]File{}, Ephemerals: e.ephemerals}
	for _, id := range e.userOrder {
		s.Users = append(s.Users, *e.users[id])
	}
	for _, id := range e.groupOrder {
		s.Groups = append(s.Groups, *e.groups[id])
	}
	for _, id := range e.chanOrder {
		ch := e.channels[id]
		sc := snapChannel{Channel: ch.snapshot(), Created: ch.created, IMUser: ch.imUser}
		for _, m := range ch.msgs {
			sc.Messages = append(sc.Messages, snapMessage{Message: m.copy(), ClientMsgID: m.clientMsgID,
				EditedBy: m.editedBy, Inviter: m.inviter, NoBlocks: m.noBlocks})
		}
		s.Channels = append(s.Channels, sc)
	}
	for _, id := range e.viewOrder {
		s.Views = append(s.Views, e.views[id].copy())
	}
	contents := map[string][]byte{}
	for id, f := range e.files {
		cp := *f
		if !withContent {
			if len(cp.Content) > 0 {
				contents[id] = cp.Content
			}
			cp.Content = nil
		}
		s.Files[id] = cp
	}
	return s, contents
}

// Restore replaces the workspace's people, channels, history, views and
// files with a Snapshot. Call it before the bot connects: it emits no
// events. A snapshot from another bot user id or version is refused and
// changes nothing.
func (e *Emulator) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("decode slack snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("slack snapshot version %d: want %d", s.Version, snapshotVersion)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := newState(e.cfg)
	st.seq, st.clock.last = s.Seq, s.ClockLast
	for _, u := range s.Users {
		if u.ID == e.cfg.BotUserID {
			continue
		}
		cp := u
		st.users[u.ID] = &cp
		st.userOrder = append(st.userOrder, u.ID)
	}
	for _, g := range s.Groups {
		cp := g
		st.groups[g.ID] = &cp
		st.groupOrder = append(st.groupOrder, g.ID)
	}
	for _, sc := range s.Channels {
		ch := &channel{Channel: sc.Channel, created: sc.Created, imUser: sc.IMUser, members: map[string]bool{}}
		ch.Members = slices.Clone(sc.Members)
		for _, m := range sc.Members {
			ch.members[m] = true
		}
		for _, sm := range sc.Messages {
			sm.Blocks, sm.Metadata = nullToNil(sm.Blocks), nullToNil(sm.Metadata)
			ch.msgs = append(ch.msgs, &message{Message: sm.Message, clientMsgID: sm.ClientMsgID,
				editedBy: sm.EditedBy, inviter: sm.Inviter, noBlocks: sm.NoBlocks})
		}
		st.channels[ch.ID] = ch
		st.chanOrder = append(st.chanOrder, ch.ID)
	}
	for k, v := range s.DMs {
		st.dms[k] = v
	}
	for k, v := range s.Homes {
		st.homes[k] = v
	}
	for _, v := range s.Views {
		cp := v
		st.views[v.ID] = &cp
		st.viewOrder = append(st.viewOrder, v.ID)
	}
	for id, f := range s.Files {
		cp := f
		st.files[id] = &cp
	}
	for i := range s.Ephemerals {
		s.Ephemerals[i].Blocks = nullToNil(s.Ephemerals[i].Blocks)
	}
	st.ephemerals = s.Ephemerals
	// Keep what belongs to the running process.
	st.conns, st.connSeq, st.envs, st.envOrder, st.queue = e.conns, e.connSeq, e.envs, e.envOrder, e.queue
	st.faults, st.tickets, st.hooks, st.triggers, st.calls, st.connRR = e.faults, e.tickets, e.hooks, e.triggers, e.calls, e.connRR
	e.state = st
	e.notifyLocked()
	return nil
}

// nullToNil undoes JSON's encoding of a nil RawMessage as null.
func nullToNil(m json.RawMessage) json.RawMessage {
	if string(m) == "null" {
		return nil
	}
	return m
}

// SaveFile writes a Snapshot to path durably: a temporary file in the same
// directory is written, synced and renamed over path, and the directory is
// synced, so a crash leaves the old snapshot or the new one, never half.
// Shared files' bytes are kept beside it, one file per id in FilesDir(path),
// written once (they never change) and removed once dropped.
func (e *Emulator) SaveFile(path string) error {
	s, contents := e.snapshot(false)
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode slack snapshot: %w", err)
	}
	if err := saveContents(FilesDir(path), contents); err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// FilesDir is where SaveFile keeps shared files' bytes for a snapshot at
// path: "cla.sandbox.json" keeps them in "cla.sandbox.files".
func FilesDir(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".files"
}

// validFileID accepts the ids that may name a file in FilesDir.
var validFileID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// saveContents makes dir hold exactly the given files' bytes.
func saveContents(dir string, contents map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("save slack files: %w", err)
	}
	have := map[string]bool{}
	for _, en := range entries {
		name := en.Name()
		if _, keep := contents[name]; keep {
			have[name] = true
		} else if !strings.HasPrefix(name, ".") { // temporary files are RemoveTemp's
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
	if len(contents) > 0 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("save slack files: %w", err)
		}
	}
	for id, b := range contents {
		if have[id] || !validFileID.MatchString(id) {
			continue
		}
		if err := writeFileAtomic(filepath.Join(dir, id), b); err != nil {
			return fmt.Errorf("save slack file %s: %w", id, err)
		}
	}
	return nil
}

// loadContents gives restored files their bytes from dir (a file whose
// bytes are missing stays without, and its download answers 404).
func (e *Emulator) loadContents(dir string) error {
	e.mu.Lock()
	var want []string
	for id, f := range e.files {
		if len(f.Content) == 0 && f.Size > 0 && validFileID.MatchString(id) {
			want = append(want, id)
		}
	}
	e.mu.Unlock()
	got := map[string][]byte{}
	for _, id := range want {
		b, err := os.ReadFile(filepath.Join(dir, id))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read slack file %s: %w", id, err)
		}
		got[id] = b
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, b := range got {
		if f, ok := e.files[id]; ok && len(b) == f.Size {
			f.Content = b
		}
	}
	e.capFileBytesLocked()
	return nil
}

// LoadFile restores a snapshot written by SaveFile, with the files' bytes
// kept beside it; a missing file is not an error (found reports false) and
// leaves the workspace as it is. Temporary files an interrupted save left
// behind are removed first.
func (e *Emulator) LoadFile(path string) (found bool, err error) {
	if _, err := RemoveTemp(path); err != nil {
		e.log.Warn("remove stale snapshot temporary files", "path", path, "err", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read slack snapshot: %w", err)
	}
	if err := e.Restore(data); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	if err := e.loadContents(FilesDir(path)); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// RemoveTemp removes the temporary files SaveFile makes for path and for
// the files' bytes beside it (".<name>.tmp-*"), which a process killed
// during a save leaves behind. Call it when no save is running: at start
// and after the last save. It returns how many it removed.
func RemoveTemp(path string) (int, error) {
	n := 0
	var errs []error
	for _, pattern := range []string{
		filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"),
		filepath.Join(FilesDir(path), ".*.tmp-*"),
	} {
		matches, _ := filepath.Glob(pattern) // the patterns are well-formed
		for _, m := range matches {
			if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// writeFileAtomic replaces path with data, crash-safely (mode 0600): a
// temporary file ".<name>.tmp-*" beside it is written, synced and renamed.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save slack snapshot: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("save slack snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("save slack snapshot: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save slack snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save slack snapshot: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// a later process (the sandbox keeps it in its data directory).
func (e *Emulator) Snapshot() ([]byte, error) {
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
	for id, f := range e.files {
		s.Files[id] = *f
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode slack snapshot: %w", err)
	}
	return b, nil
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
func (e *Emulator) SaveFile(path string) error {
	data, err := e.Snapshot()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// LoadFile restores a snapshot written by SaveFile; a missing file is not
// an error (found reports false) and leaves the workspace as it is.
func (e *Emulator) LoadFile(path string) (found bool, err error) {
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
	return true, nil
}

// writeFileAtomic replaces path with data, crash-safely (mode 0600).
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

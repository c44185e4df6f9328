package slackemu

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxFileBytes is Config.MaxFileBytes's default: 64 MiB of shared
// files' content.
const DefaultMaxFileBytes = 64 << 20

// File is a file a simulated human shared.
type File struct {
	ID       string // "F…"; generated when empty
	Name     string // "disk.png"
	Title    string // defaults to Name
	Mimetype string // defaults from the extension
	Filetype string // "png"; defaults from the extension
	Size     int
	User     string // uploader; set by ShareFile
	Created  int64  // unix seconds; set by ShareFile
	// Content is what url_private_download serves to the bot token; a file
	// shared with a Size and no Content is answered 404 (the emulator has
	// no bytes to give). Size defaults to len(Content). Messages' copies
	// of a file carry no Content; the emulator keeps the bytes (up to
	// Config.MaxFileBytes in all).
	Content []byte
}

// fileDefaults fills a file's derived fields.
func fileDefaults(f File) File {
	if f.Title == "" {
		f.Title = f.Name
	}
	ext := ""
	if i := strings.LastIndex(f.Name, "."); i >= 0 {
		ext = strings.ToLower(f.Name[i+1:])
	}
	if f.Filetype == "" {
		f.Filetype = ext
		if ext == "" {
			f.Filetype = "binary"
		}
	}
	if f.Mimetype == "" {
		f.Mimetype = map[string]string{"png": "image/png", "jpg": "image/jpeg", "txt": "text/plain",
			"log": "text/plain", "pdf": "application/pdf", "json": "application/json"}[ext]
		if f.Mimetype == "" {
			f.Mimetype = "application/octet-stream"
		}
	}
	if f.Created == 0 {
		f.Created = time.Now().Unix()
	}
	if f.Size == 0 {
		f.Size = len(f.Content)
	}
	return f
}

// signInPage is what Slack answers, with status 200, to a file download
// without a valid token: its HTML sign-in page, not an error.
const signInPage = `<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head>
<body><h1>Sign in to Slack</h1><p>We suggest using the email address you use at work.</p>
<form action="/signin" method="post"><input type="email" name="email"><button>Sign In With Email</button></form></body></html>
`

// serveFile serves /files/<user>/<id>/<name> the way Slack serves
// url_private and url_private_download: the bytes to a request carrying
// the bot token (Authorization: Bearer xoxb-…), and to anything else the
// HTML sign-in page with status 200.
func (e *Emulator) serveFile(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	e.mu.Lock()
	var f *File
	if len(parts) >= 2 {
		f = e.files[parts[1]]
	}
	var content []byte
	if f != nil {
		content = f.Content
	}
	e.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+e.cfg.BotToken {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, signInPage)
		return
	}
	if f == nil || (len(content) == 0 && f.Size > 0) {
		http.Error(w, "file_not_found: the emulator was given no bytes for this file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", f.Mimetype)
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	_, _ = w.Write(content)
}

// fileJSON renders a file object as messages and files.info show it.
func (e *Emulator) fileJSON(f File) obj {
	url := e.base + "/files/" + f.User + "/" + f.ID + "/" + f.Name
	return obj{
		"id": f.ID, "created": f.Created, "timestamp": f.Created, "name": f.Name,
		"title": f.Title, "mimetype": f.Mimetype, "filetype": f.Filetype,
		"pretty_type": strings.ToUpper(f.Filetype), "user": f.User, "user_team": e.cfg.TeamID,
		"editable": false, "size": f.Size, "mode": "hosted", "is_external": false,
		"external_type": "", "is_public": true, "public_url_shared": false,
		"display_as_bot": false, "username": "", "url_private": url,
		"url_private_download": url + "?download=1", "permalink": url,
		"permalink_public": url + "?pub=1", "has_rich_preview": false, "file_access": "visible",
	}
}

// filesJSON renders a message's files.
func (e *Emulator) filesJSON(fs []File) []obj {
	out := make([]obj, len(fs))
	for i, f := range fs {
		out[i] = e.fileJSON(f)
	}
	return out
}

// filesInfo answers files.info.
func (e *Emulator) filesInfo(a *args) (obj, error) {
	f, ok := e.files[a.str("file")]
	if !ok {
		return nil, slackErr("file_not_found")
	}
	return obj{"file": e.fileJSON(*f), "comments": []obj{},
		"response_metadata": obj{"next_cursor": ""}}, nil
}

// capFileBytesLocked drops the content of the oldest files (ids are handed
// out in increasing order) until the kept total fits Config.MaxFileBytes.
func (e *Emulator) capFileBytesLocked() {
	var ids []string
	var total int64
	for id, f := range e.files {
		if len(f.Content) > 0 {
			ids = append(ids, id)
			total += int64(len(f.Content))
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if total <= max(e.cfg.MaxFileBytes, 0) {
			return
		}
		total -= int64(len(e.files[id].Content))
		e.files[id].Content = nil
		e.log.Debug("file bytes dropped", "file", id, "kept_bytes", total)
	}
}

// FileContent returns a shared file with its bytes, as a person in the
// workspace would download it; ok is false for an unknown file or one the
// workspace keeps no bytes of (shared without, or dropped past
// Config.MaxFileBytes).
func (e *Emulator) FileContent(id string) (f File, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	stored, found := e.files[id]
	if !found || (len(stored.Content) == 0 && stored.Size > 0) {
		return File{}, false
	}
	return *stored, true // Content is never mutated once stored
}

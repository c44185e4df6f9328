package slackemu

import (
	"strings"
	"time"
)

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
	return f
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

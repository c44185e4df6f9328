package slackemu

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzValidateBlocks checks the validator never panics and that whatever
// it accepts is a JSON array.
func FuzzValidateBlocks(f *testing.F) {
	f.Add(`[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]`)
	f.Add(`[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"b"}}]}]`)
	f.Add(`[{"type":"context","elements":[{"type":"image"},"x",1]}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range []Surface{SurfaceMessage, SurfaceModal} {
			errs, err := ValidateBlocks(json.RawMessage(raw), s)
			if err == nil && !json.Valid([]byte(raw)) {
				t.Fatalf("accepted invalid JSON %q", raw)
			}
			for _, e := range errs {
				if !strings.Contains(e, "[json-pointer:/blocks") {
					t.Fatalf("error without pointer: %q", e)
				}
			}
		}
	})
}

// FuzzEncode checks typed-text encoding: never panics, never leaves a raw
// '<' or '>' outside an entity, and always yields a valid rich_text block.
func FuzzEncode(f *testing.F) {
	e := New(Config{})
	e.AddUser(User{ID: "U1", Name: "bob"})
	e.AddChannel(Channel{ID: "C1", Name: "general"})
	f.Add("hi @bob in #general & <b>")
	f.Add("<@U1> <#C1|general> <!here> <https://x|y>")
	f.Add("@@##<<>>&&")
	f.Fuzz(func(t *testing.T, typed string) {
		e.mu.Lock()
		out := e.encodeLocked(typed)
		e.mu.Unlock()
		rest := out
		for {
			i := strings.IndexAny(rest, "<>")
			if i < 0 {
				break
			}
			if rest[i] == '>' {
				t.Fatalf("stray '>' in %q from %q", out, typed)
			}
			j := strings.IndexByte(rest[i:], '>')
			if j < 0 || !isEntity(rest[i+1:i+j]) {
				t.Fatalf("stray '<' in %q from %q", out, typed)
			}
			rest = rest[i+j+1:]
		}
		var blocks []map[string]any
		if err := json.Unmarshal(richTextBlocks(out), &blocks); err != nil || len(blocks) != 1 {
			t.Fatalf("bad rich_text for %q: %v", out, err)
		}
	})
}

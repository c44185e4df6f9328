package slackemu

import (
	"encoding/json"
	"html"
	"strings"
)

// MentionUser encodes a user mention as Slack sends it: "<@U…>".
func MentionUser(userID string) string { return "<@" + userID + ">" }

// MentionChannel encodes a channel reference as Slack sends it: "<#C…|name>".
func MentionChannel(channelID, name string) string { return "<#" + channelID + "|" + name + ">" }

// encodeLocked turns typed text into Slack's wire format (see Post).
func (e *Emulator) encodeLocked(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<':
			if j := strings.IndexByte(s[i:], '>'); j > 0 && isEntity(s[i+1:i+j]) {
				b.WriteString(s[i : i+j+1])
				i += j + 1
				continue
			}
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case (c == '@' || c == '#') && (i == 0 || strings.IndexByte(" \t\n(", s[i-1]) >= 0):
			if ent, n := e.resolveNameLocked(c, s[i+1:]); n > 0 {
				b.WriteString(ent)
				i += 1 + n
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// isEntity reports whether "<…>" content is a Slack entity to keep as is.
func isEntity(s string) bool {
	for _, p := range []string{"@U", "@W", "@B", "#C", "#G", "!", "http://", "https://", "mailto:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// resolveNameLocked resolves the name after '@' or '#', trying shorter
// names without trailing punctuation; it returns the entity and the bytes
// of s consumed, or 0 when nothing matched.
func (e *Emulator) resolveNameLocked(sigil byte, s string) (string, int) {
	n := 0
	for n < len(s) && isNameByte(s[n]) {
		n++
	}
	for ; n > 0; n-- {
		if ent := e.entityLocked(sigil, s[:n]); ent != "" {
			return ent, n
		}
		if !strings.ContainsRune(".-_", rune(s[n-1])) {
			return "", 0
		}
	}
	return "", 0
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// entityLocked maps one name to its entity, or "".
func (e *Emulator) entityLocked(sigil byte, name string) string {
	if sigil == '#' {
		if ch := e.channelByNameLocked(name); ch != nil {
			return MentionChannel(ch.ID, ch.Name)
		}
		return ""
	}
	switch name {
	case "here", "channel", "everyone":
		return "<!" + name + ">"
	}
	if u := e.userByNameLocked(name); u != nil {
		return MentionUser(u.ID)
	}
	for _, id := range e.groupOrder {
		if e.groups[id].Handle == name {
			return "<!subteam^" + id + ">"
		}
	}
	return ""
}

// richTextBlocks builds the rich_text block Slack's client sends along with
// typed text (already in wire format).
func richTextBlocks(text string) json.RawMessage {
	var els []obj
	for len(text) > 0 {
		i := strings.IndexByte(text, '<')
		j := strings.IndexByte(text[max(i, 0):], '>')
		if i < 0 || j < 0 {
			els = append(els, obj{"type": "text", "text": html.UnescapeString(text)})
			break
		}
		if i > 0 {
			els = append(els, obj{"type": "text", "text": html.UnescapeString(text[:i])})
		}
		els = append(els, entityElement(text[i+1:i+j]))
		text = text[i+j+1:]
	}
	blocks := []obj{{"type": "rich_text", "block_id": randomHex(5),
		"elements": []obj{{"type": "rich_text_section", "elements": els}}}}
	b, _ := json.Marshal(blocks)
	return b
}

// entityElement maps an entity's inside to its rich_text element.
func entityElement(s string) obj {
	ref, label, _ := strings.Cut(s, "|")
	switch {
	case strings.HasPrefix(ref, "@"):
		return obj{"type": "user", "user_id": ref[1:]}
	case strings.HasPrefix(ref, "#"):
		return obj{"type": "channel", "channel_id": ref[1:]}
	case strings.HasPrefix(ref, "!subteam^"):
		return obj{"type": "usergroup", "usergroup_id": strings.TrimPrefix(ref, "!subteam^")}
	case strings.HasPrefix(ref, "!"):
		return obj{"type": "broadcast", "range": ref[1:]}
	}
	link := obj{"type": "link", "url": ref}
	if label != "" {
		link["text"] = label
	}
	return link
}

package slackemu

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Surface is where blocks are shown; limits differ per surface.
type Surface string

// Surfaces with distinct Block Kit limits.
const (
	SurfaceMessage Surface = "message" // at most 50 blocks
	SurfaceModal   Surface = "modal"   // at most 100 blocks
	SurfaceHome    Surface = "home"    // at most 100 blocks
)

// Block Kit limits the emulator enforces.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxHeaderText    = 150
	maxContextText   = 2000
	maxContextElems  = 10
	maxActionsElems  = 25
	maxIDLen         = 255
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxURLLen        = 3000
)

// ValidateBlocks checks blocks (a JSON array) against Block Kit's basic
// limits and returns Slack-style messages such as "must be less than 3001
// characters [json-pointer:/blocks/0/text/text]". The error is non-nil only
// when raw is not a JSON array of objects.
func ValidateBlocks(raw json.RawMessage, surface Surface) ([]string, error) {
	return validateBlocksAt(raw, surface, "/blocks")
}

// validateBlocksAt validates with a json-pointer prefix ("/view/blocks").
func validateBlocksAt(raw json.RawMessage, surface Surface, at string) ([]string, error) {
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("blocks are not an array of objects: %w", err)
	}
	v := &validator{}
	limit := maxMessageBlocks
	if surface != SurfaceMessage {
		limit = maxViewBlocks
	}
	if len(blocks) > limit {
		v.fail(at, "no more than %d items allowed", limit)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("%s/%d", at, i)
		if id, ok := b["block_id"].(string); ok {
			v.maxLen(p+"/block_id", id, maxIDLen)
			if ids[id] {
				v.fail(p+"/block_id", "duplicate block_id %q", id)
			}
			ids[id] = true
		}
		v.block(p, b)
	}
	return v.errs, nil
}

// validator collects errors with their json pointers.
type validator struct{ errs []string }

func (v *validator) fail(at, format string, a ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, a...)+" [json-pointer:"+at+"]")
}

// maxLen checks a string's length in characters.
func (v *validator) maxLen(at, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		v.fail(at, "must be less than %d characters", n+1)
	}
}

// block validates one block by type.
func (v *validator) block(p string, b map[string]any) {
	switch t, _ := b["type"].(string); t {
	case "section":
		v.section(p, b)
	case "header":
		v.text(p+"/text", b["text"], maxHeaderText, true, true)
	case "context":
		v.context(p, b)
	case "actions":
		v.actions(p, b)
	case "input":
		v.text(p+"/label", b["label"], 2000, true, true)
		v.text(p+"/hint", b["hint"], 2000, false, true)
		if el, ok := b["element"].(map[string]any); ok {
			v.element(p+"/element", el)
		} else {
			v.fail(p+"/element", "must provide an object")
		}
	case "image":
		if s, _ := b["image_url"].(string); s == "" && b["slack_file"] == nil {
			v.fail(p, "failed to match all allowed schemas")
		} else {
			v.maxLen(p+"/image_url", s, maxURLLen)
		}
		alt, _ := b["alt_text"].(string)
		v.maxLen(p+"/alt_text", alt, 2000)
	case "divider", "rich_text", "file", "video", "markdown", "table", "context_actions":
	case "":
		v.fail(p+"/type", "must provide a string")
	default:
		v.fail(p+"/type", "unsupported type: %s", t)
	}
}

func (v *validator) section(p string, b map[string]any) {
	fields, hasFields := b["fields"].([]any)
	if b["text"] == nil && !hasFields {
		v.fail(p, "must provide either text or fields")
	}
	v.text(p+"/text", b["text"], maxSectionText, false, false)
	if len(fields) > 10 {
		v.fail(p+"/fields", "no more than 10 items allowed")
	}
	for i, f := range fields {
		v.text(fmt.Sprintf("%s/fields/%d", p, i), f, maxFieldText, true, false)
	}
	if acc, ok := b["accessory"].(map[string]any); ok {
		v.element(p+"/accessory", acc)
	}
}

func (v *validator) context(p string, b map[string]any) {
	els, _ := b["elements"].([]any)
	if len(els) == 0 {
		v.fail(p+"/elements", "must provide at least 1 items")
	}
	if len(els) > maxContextElems {
		v.fail(p+"/elements", "no more than %d items allowed", maxContextElems)
	}
	for i, el := range els {
		ep := fmt.Sprintf("%s/elements/%d", p, i)
		if m, ok := el.(map[string]any); ok && m["type"] == "image" {
			continue
		}
		v.text(ep, el, maxContextText, true, false)
	}
}

func (v *validator) actions(p string, b map[string]any) {
	els, _ := b["elements"].([]any)
	if len(els) == 0 {
		v.fail(p+"/elements", "must provide at least 1 items")
	}
	if len(els) > maxActionsElems {
		v.fail(p+"/elements", "no more than %d items allowed", maxActionsElems)
	}
	seen := map[string]bool{}
	for i, el := range els {
		ep := fmt.Sprintf("%s/elements/%d", p, i)
		m, ok := el.(map[string]any)
		if !ok {
			v.fail(ep, "must provide an object")
			continue
		}
		if id, _ := m["action_id"].(string); id != "" {
			if seen[id] {
				v.fail(ep+"/action_id", "duplicate action_id %q", id)
			}
			seen[id] = true
		}
		v.element(ep, m)
	}
}

// element validates an interactive element.
func (v *validator) element(p string, el map[string]any) {
	if id, ok := el["action_id"].(string); ok {
		v.maxLen(p+"/action_id", id, maxIDLen)
	}
	switch el["type"] {
	case "button":
		v.text(p+"/text", el["text"], maxButtonText, true, true)
		val, _ := el["value"].(string)
		v.maxLen(p+"/value", val, maxButtonValue)
		u, _ := el["url"].(string)
		v.maxLen(p+"/url", u, maxURLLen)
		if s, ok := el["style"].(string); ok && s != "primary" && s != "danger" {
			v.fail(p+"/style", "must be one of the allowed values")
		}
	case "checkboxes", "radio_buttons":
		v.options(p, el, 10)
	case "overflow":
		v.options(p, el, 5)
	case "static_select", "multi_static_select":
		v.options(p, el, 100)
	case nil, "":
		v.fail(p+"/type", "must provide a string")
	}
}

// options checks an element's option list length.
func (v *validator) options(p string, el map[string]any, n int) {
	if opts, _ := el["options"].([]any); len(opts) > n {
		v.fail(p+"/options", "no more than %d items allowed", n)
	}
}

// text validates a text object; plain demands plain_text.
func (v *validator) text(p string, t any, limit int, required, plain bool) {
	if t == nil {
		if required {
			v.fail(p, "must provide an object")
		}
		return
	}
	m, ok := t.(map[string]any)
	if !ok {
		v.fail(p, "must provide an object")
		return
	}
	typ, _ := m["type"].(string)
	if typ != "plain_text" && (plain || typ != "mrkdwn") {
		v.fail(p+"/type", "must be a valid enum value")
	}
	s, ok := m["text"].(string)
	switch {
	case !ok:
		v.fail(p+"/text", "must provide a string")
	case s == "":
		v.fail(p+"/text", "must be more than 0 characters")
	default:
		v.maxLen(p+"/text", s, limit)
	}
}

// blocksError renders validation messages as Slack's error answer.
func blocksError(code string, errs []string) error {
	msgs := make([]string, len(errs))
	for i, m := range errs {
		msgs[i] = "[ERROR] " + m
	}
	extra := obj{"response_metadata": obj{"messages": msgs}}
	if code == "invalid_blocks" {
		extra["errors"] = errs
	}
	return &apiError{code: code, extra: extra}
}

package sandbox

import (
	"encoding/json"
	"html/template"
	"strings"
)

// textObj is a Block Kit text object.
type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji"`
}

// option is a select or checkbox option.
type option struct {
	Text        textObj  `json:"text"`
	Value       string   `json:"value"`
	Description *textObj `json:"description"`
}

// confirmObj is a confirmation dialog on a button.
type confirmObj struct {
	Title   textObj `json:"title"`
	Text    textObj `json:"text"`
	Confirm textObj `json:"confirm"`
	Deny    textObj `json:"deny"`
	Style   string  `json:"style"`
}

// element is any block element (buttons, inputs, images, text in context).
type element struct {
	textObj
	ActionID       string          `json:"action_id"`
	Value          string          `json:"value"`
	URL            string          `json:"url"`
	Style          string          `json:"style"`
	Label          textObj         `json:"-"`
	ButtonText     *textObj        `json:"-"`
	Confirm        *confirmObj     `json:"confirm"`
	Options        []option        `json:"options"`
	InitialOptions []option        `json:"initial_options"`
	InitialValue   string          `json:"initial_value"`
	Multiline      bool            `json:"multiline"`
	Placeholder    *textObj        `json:"placeholder"`
	ImageURL       string          `json:"image_url"`
	AltText        string          `json:"alt_text"`
	Raw            json.RawMessage `json:"-"`
}

// UnmarshalJSON reads an element whose "text" is a string (text objects)
// or an object (buttons).
func (e *element) UnmarshalJSON(b []byte) error {
	type plainElement element
	var aux struct {
		plainElement
		Text json.RawMessage `json:"text"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*e = element(aux.plainElement)
	e.Raw = b
	if len(aux.Text) > 0 && aux.Text[0] == '{' {
		var t textObj
		_ = json.Unmarshal(aux.Text, &t)
		e.ButtonText = &t
	} else if len(aux.Text) > 0 {
		_ = json.Unmarshal(aux.Text, &e.textObj.Text)
	}
	return nil
}

// rawBlock is one block as JSON gives it.
type rawBlock struct {
	Type      string    `json:"type"`
	BlockID   string    `json:"block_id"`
	Text      *textObj  `json:"text"`
	Fields    []textObj `json:"fields"`
	Accessory *element  `json:"accessory"`
	Elements  []element `json:"elements"`
	ImageURL  string    `json:"image_url"`
	AltText   string    `json:"alt_text"`
	Title     *textObj  `json:"title"`
	Label     *textObj  `json:"label"`
	Hint      *textObj  `json:"hint"`
	Element   *element  `json:"element"`
	Optional  bool      `json:"optional"`
}

// blockView is a block ready for the templates: every text is already
// safe HTML, every interactive element knows where its click goes.
type blockView struct {
	Type     string
	BlockID  string
	Text     template.HTML
	Fields   []template.HTML
	Items    []elemView
	Image    *imageView
	Label    string
	Hint     string
	Input    *elemView
	Optional bool
	Error    string
}

// imageView is an image block or accessory.
type imageView struct {
	URL   string
	Alt   string
	Title string
}

// elemView is one element of a block.
type elemView struct {
	Kind      string // "button", "link", "checkboxes", "select", "image", "text", "input", "textarea", "unknown"
	ActionID  string
	BlockID   string
	Text      template.HTML
	Label     string
	Value     string
	URL       string
	Style     string
	Confirm   *confirmView
	Options   []optionView
	Image     *imageView
	Name      string // form field name of an input
	Typed     string // a modal input's current value
	Holder    string
	Container container
}

// confirmView is a button's confirmation dialog.
type confirmView struct {
	Title, Text, Confirm, Deny, Style string
}

// optionView is one checkbox or select option.
type optionView struct {
	Label   template.HTML
	Value   string
	Checked bool
}

// container says where an element lives: a message (channel, ts) or a
// view (id). Forms carry it back with the click.
type container struct {
	Channel string
	TS      string
	View    string
}

// blockRenderer turns Block Kit JSON into views for one page.
type blockRenderer struct {
	names names
}

// render reads blocks; bad JSON renders as nothing (the emulator has
// validated what the bot sent).
func (r blockRenderer) render(raw json.RawMessage, c container) []blockView {
	var bs []rawBlock
	if len(raw) == 0 || json.Unmarshal(raw, &bs) != nil {
		return nil
	}
	out := make([]blockView, 0, len(bs))
	for _, b := range bs {
		out = append(out, r.block(b, c))
	}
	return out
}

// block renders one block by type.
func (r blockRenderer) block(b rawBlock, c container) blockView {
	v := blockView{Type: b.Type, BlockID: b.BlockID, Optional: b.Optional}
	switch b.Type {
	case "header":
		v.Text = r.text(b.Text)
	case "section":
		v.Text = r.text(b.Text)
		for i := range b.Fields {
			v.Fields = append(v.Fields, r.text(&b.Fields[i]))
		}
		if b.Accessory != nil {
			v.Items = []elemView{r.element(*b.Accessory, b.BlockID, c)}
		}
	case "context", "actions":
		for _, el := range b.Elements {
			v.Items = append(v.Items, r.element(el, b.BlockID, c))
		}
	case "image":
		v.Image = &imageView{URL: imageURL(b.ImageURL), Alt: b.AltText, Title: plainOf(b.Title)}
	case "input":
		v.Label, v.Hint = plainOf(b.Label), plainOf(b.Hint)
		if b.Element != nil {
			in := r.element(*b.Element, b.BlockID, c)
			v.Input = &in
		}
	case "rich_text":
		// Human messages carry rich_text beside their text; the text is shown.
		v.Type = "skip"
	case "divider":
	default:
		v.Type = "unknown"
	}
	return v
}

// element renders one element.
func (r blockRenderer) element(el element, blockID string, c container) elemView {
	v := elemView{ActionID: el.ActionID, BlockID: blockID, Value: el.Value, Style: el.Style, Container: c}
	if el.Placeholder != nil {
		v.Holder = el.Placeholder.Text
	}
	switch el.Type {
	case "mrkdwn", "plain_text":
		v.Kind, v.Text = "text", r.text(&el.textObj)
	case "image":
		v.Kind, v.Image = "image", &imageView{URL: imageURL(el.ImageURL), Alt: el.AltText}
	case "button":
		v.Kind = "button"
		if el.ButtonText != nil {
			v.Label = el.ButtonText.Text
		}
		if el.URL != "" && safeURL(el.URL) && !strings.HasPrefix(strings.ToLower(el.URL), "mailto:") {
			v.Kind, v.URL = "link", el.URL
		}
		if cf := el.Confirm; cf != nil {
			v.Confirm = &confirmView{Title: cf.Title.Text, Text: cf.Text.Text, Confirm: orDefault(cf.Confirm.Text, "Yes"),
				Deny: orDefault(cf.Deny.Text, "Cancel"), Style: cf.Style}
		}
	case "checkboxes", "radio_buttons", "static_select", "overflow", "multi_static_select":
		v.Kind = map[string]string{"checkboxes": "checkboxes", "radio_buttons": "radio", "static_select": "select",
			"overflow": "select", "multi_static_select": "checkboxes"}[el.Type]
		for _, o := range el.Options {
			ov := optionView{Label: r.text(&o.Text), Value: o.Value}
			for _, io := range el.InitialOptions {
				ov.Checked = ov.Checked || io.Value == o.Value
			}
			v.Options = append(v.Options, ov)
		}
	case "plain_text_input", "url_text_input", "email_text_input", "number_input":
		v.Kind, v.Typed = "input", el.InitialValue
		if el.Multiline {
			v.Kind = "textarea"
		}
	default:
		v.Kind, v.Label = "unknown", el.Type
	}
	v.Name = "v." + blockID + "." + el.ActionID
	return v
}

// text renders a text object: mrkdwn formatted, plain_text escaped.
func (r blockRenderer) text(t *textObj) template.HTML {
	if t == nil {
		return ""
	}
	if t.Type == "mrkdwn" {
		return mrkdwn(t.Text, r.names)
	}
	return template.HTML(template.HTMLEscapeString(slackUnescapePlain(t.Text))) // #nosec G203 -- escaped
}

// slackUnescapePlain keeps plain_text as typed (Slack does not escape it).
func slackUnescapePlain(s string) string { return s }

func plainOf(t *textObj) string {
	if t == nil {
		return ""
	}
	return t.Text
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// imageURL admits http(s) images only; anything else shows as missing.
func imageURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		return u
	}
	return ""
}

package monitor

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// DefaultMarkdownBytes is the longest description rendered as Markdown
// unless Config.MarkdownBytes says otherwise (limits.markdownBytes).
const DefaultMarkdownBytes = 16 << 10

// markdown renders gate descriptions. Goldmark drops raw HTML (no unsafe
// mode) and bluemonday's UGC policy then removes whatever is left that
// could run: scripts, event attributes, javascript: links.
type markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	// max is the longest source parsed: goldmark's time grows with the
	// square of some inputs (64 KiB of "[a](" takes seconds), and a page
	// view renders every gate's description. Longer is plain text.
	max int
}

func newMarkdown(max int) *markdown {
	if max <= 0 {
		max = DefaultMarkdownBytes
	}
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return &markdown{
		md:     goldmark.New(goldmark.WithExtensions(extension.GFM)),
		policy: p,
		max:    max,
	}
}

// HTML renders Markdown to sanitised HTML, or escaped text if it fails or
// is longer than the limit.
func (m *markdown) HTML(src string) template.HTML {
	if len(src) > m.max {
		return template.HTML(`<p class="plain">` + template.HTMLEscapeString(src) + `</p>`)
	}
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(m.policy.SanitizeBytes(buf.Bytes()))
}

package sandbox

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type testNames struct{}

func (testNames) userName(id string) string {
	if id == "U1" {
		return "alice"
	}
	return id
}
func (testNames) channelName(id string) string {
	if id == "C1" {
		return "job-qa-1"
	}
	return ""
}
func (testNames) groupHandle(id string) string { return "ops" }

func TestMrkdwn(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"escaped html stays text", "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"raw tag from a bot is text", "<b>hi</b>", "&lt;b&gt;hi&lt;/b&gt;"},
		{"bold italic strike", "*a* _b_ ~c~", "<b>a</b> <i>b</i> <s>c</s>"},
		{"snake_case is not italic", "job_name_x", "job_name_x"},
		{"code keeps markers", "`*x*` and *y*", "<code>*x*</code> and <b>y</b>"},
		{"pre", "```a <b>\n*c*```", `<pre class="sk-pre">a &lt;b&gt;` + "\n" + `*c*</pre>`},
		{"quote", "&gt; quoted", `<span class="sk-quote">quoted</span>`},
		{"user mention", "hi <@U1>", `hi <span class="sk-mention">@alice</span>`},
		{"channel link", "<#C1|job-qa-1>", `<a class="sk-mention" href="/sandbox/c/job-qa-1">#job-qa-1</a>`},
		{"group", "<!subteam^S1>", `<span class="sk-mention">@ops</span>`},
		{"here", "<!here>", `<span class="sk-mention">@here</span>`},
		{"link", "<https://x.example/a?b=1&amp;c=2|the *link*>", `<a href="https://x.example/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the *link*</a>`},
		{"javascript link is text", "<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"attribute break in url", `<https://x" onmouseover="a|x>`, `<a href="https://x&#34; onmouseover=&#34;a" target="_blank" rel="noopener noreferrer">x</a>`},
		{"bold around a link", "*<https://x.example|x>*", `<b><a href="https://x.example" target="_blank" rel="noopener noreferrer">x</a></b>`},
		{"newline", "a\nb", "a<br>b"},
		{"NUL cannot forge a placeholder", "\x000\x00<@U1>", `0<span class="sk-mention">@alice</span>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, string(mrkdwn(tc.in, testNames{})))
		})
	}
}

// allowedTag matches the only markup mrkdwn may produce.
var allowedTag = regexp.MustCompile(`</?(b|i|s|code|br|pre|span|a)( (class|href|target|rel)="[^"<>]*")*>`)

func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{"*a*", "<@U1>", "<https://x|y>", "```x```", "&lt;b&gt;", "<javascript:x>", "`a`*b*_c_~d~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := allowedTag.ReplaceAllString(string(mrkdwn(s, testNames{})), "")
		if strings.ContainsAny(out, "<>") {
			t.Fatalf("markup other than the allowed tags in %q: %q", s, out)
		}
		if strings.Contains(strings.ToLower(string(mrkdwn(s, testNames{}))), "href=\"javascript") {
			t.Fatalf("javascript link from %q", s)
		}
	})
}

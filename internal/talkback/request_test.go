package talkback

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		text string
		want Request
	}{
		{`restart service=api "msg=hello world" force`, Request{"restart", map[string]string{"service": "api", "msg": "hello world", "force": "true"}}},
		{`restart key="a b"`, Request{"restart", map[string]string{"key": "a b"}}},
		{`restart key='a "b"'`, Request{"restart", map[string]string{"key": `a "b"`}}},
		{`restart key=a"b c"d`, Request{"restart", map[string]string{"key": "ab cd"}}},
		{"  restart\t\nkey=x  ", Request{"restart", map[string]string{"key": "x"}}},
		{`restart key=`, Request{"restart", map[string]string{"key": ""}}},
		{`restart key=a=b`, Request{"restart", map[string]string{"key": "a=b"}}},
		{`restart msg=“smart quotes”`, Request{"restart", map[string]string{"msg": "smart quotes"}}},
		{`restart msg=‘don’t’`, Request{"restart", map[string]string{"msg": "dont’"}}},
		{`restart msg=don’t`, Request{"restart", map[string]string{"msg": "don’t"}}},
		{`restart cmd="; rm -rf /"`, Request{"restart", map[string]string{"cmd": "; rm -rf /"}}},
		{`restart cmd=$(touch)`, Request{"restart", map[string]string{"cmd": "$(touch)"}}},
		{`restart`, Request{"restart", map[string]string{}}},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseCommand(tc.text)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseCommand_Errors(t *testing.T) {
	cases := []struct{ text, want string }{
		{``, "which action?"},
		{`   `, "which action?"},
		{`restart "msg=hello`, "unbalanced quote \""},
		{`restart msg='hello`, "unbalanced quote '"},
		{`restart msg=“hello`, "unbalanced quote “"},
		{`restart a=1 a=2`, "argument a is given twice"},
		{`restart force force`, "argument force is given twice"},
		{`restart a-b=1`, `"a-b" is not a valid argument name`},
		{`restart =1`, `"" is not a valid argument name`},
		{`restart 9x=1`, `"9x" is not a valid argument name`},
		{`restart "a b=1"`, `"a b" is not a valid argument name`},
		{`restart;rm x=1`, `"restart;rm" is not an action name`},
		{`Restart`, `"Restart" is not an action name`},
		{`service=api`, `"service=api" is not an action name`},
		{"restart x=" + strings.Repeat("a", MaxCommandLen), "command is too long"},
	}
	for _, tc := range cases {
		t.Run(tc.text[:min(len(tc.text), 30)], func(t *testing.T) {
			_, err := ParseCommand(tc.text)
			r, ok := IsRefusal(err)
			require.True(t, ok, "want *Refusal, got %v", err)
			require.Contains(t, r.Reason, tc.want)
		})
	}
}

func TestRequest_String(t *testing.T) {
	cases := []map[string]string{
		{"a": "plain", "b": "two words", "c": ""},
		{"q": `say "hi"`, "s": "it's", "t": `"`, "u": "“x”"},
		{"nl": "a\nb", "tab": "\t"},
	}
	for _, args := range cases {
		req := Request{Action: "x", Args: args}
		t.Run(req.String(), func(t *testing.T) {
			back, err := ParseCommand(req.String())
			require.NoError(t, err)
			require.Equal(t, req, back)
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`restart service=api "msg=hello world" force`, `a k='x "y"'`, `a k="`, `a k=“q”`,
		"a k=\"\n\"", `a a=1 a=2`, `a b=c=d`, `x 'k=v' "k2"=v2 k3="v"'3'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		req, err := ParseCommand(text)
		if err != nil {
			_, ok := IsRefusal(err)
			require.True(t, ok, "parse errors must be refusals: %v", err)
			return
		}
		require.Regexp(t, actionNameRE, req.Action)
		for k := range req.Args {
			require.Regexp(t, argNameRE, k)
		}
		back, err := ParseCommand(req.String())
		require.NoError(t, err, "re-parse of %q", req.String())
		require.Equal(t, req, back)
	})
}

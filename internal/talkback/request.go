package talkback

import (
	"sort"
	"strings"
	"unicode"
)

// MaxCommandLen bounds the chat text ParseCommand accepts; allowlisted
// commands never need more, and it keeps a paste accident cheap.
const MaxCommandLen = 8 << 10

// Request is a parsed chat command: the text after "run".
type Request struct {
	Action string
	Args   map[string]string
}

// quote pairs: what closes each opening quote. Slack clients often turn
// typed quotes into typographic ones, which are accepted too.
var closers = map[rune]string{'"': `"`, '\'': `'`, '“': "”“", '‘': "’‘"}

// ParseCommand splits `restart service=api "msg=hello world" force` into
// an action name and args. Quoting follows the shell, without escapes or
// expansion: "..." or '...' may wrap a whole key=value or just the value,
// and adjacent pieces join. A bare word such as `force` means force=true.
// Errors are *Refusal with a reason fit for chat.
func ParseCommand(text string) (Request, error) {
	if len(text) > MaxCommandLen {
		return Request{}, refusef("command is too long (%d bytes, at most %d)", len(text), MaxCommandLen)
	}
	words, err := splitWords(text)
	if err != nil {
		return Request{}, err
	}
	if len(words) == 0 {
		return Request{}, refusef("which action? say run <action> key=value…")
	}
	req := Request{Action: words[0], Args: map[string]string{}}
	if !actionNameRE.MatchString(req.Action) {
		return Request{}, refusef("%s is not an action name (lowercase letters, digits, . _ -)", quoteShort(req.Action))
	}
	for _, w := range words[1:] {
		if err := req.addArg(w); err != nil {
			return Request{}, err
		}
	}
	return req, nil
}

// addArg splits key=value at the first '=' and rejects repeats.
func (r *Request) addArg(w string) error {
	key, val, found := strings.Cut(w, "=")
	if !found {
		val = "true"
	}
	if !argNameRE.MatchString(key) {
		return refusef("%s is not a valid argument name: use key=value, keys are letters, digits and _", quoteShort(key))
	}
	if _, dup := r.Args[key]; dup {
		return refusef("argument %s is given twice", key)
	}
	r.Args[key] = val
	return nil
}

// splitWords splits on unquoted white space and removes the quotes.
func splitWords(text string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case closers[r] != "":
			end := indexAny(rs[i+1:], closers[r])
			if end < 0 {
				return nil, refusef("unbalanced quote %c: every opening quote needs a closing one", r)
			}
			cur.WriteString(string(rs[i+1 : i+1+end]))
			i += end + 1
			inWord = true
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func indexAny(rs []rune, set string) int {
	for i, r := range rs {
		if strings.ContainsRune(set, r) {
			return i
		}
	}
	return -1
}

// String formats the request so that ParseCommand reads it back unchanged;
// logs and confirm prompts show it.
func (r Request) String() string {
	var b strings.Builder
	b.WriteString(r.Action)
	keys := make([]string, 0, len(r.Args))
	for k := range r.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + quoteValue(r.Args[k]))
	}
	return b.String()
}

// quoteValue quotes v when needed: in double quotes, with any '"' given
// as '"' (single-quoted) pieces, since there are no escapes.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || closers[r] != "" }) {
		return v
	}
	parts := strings.Split(v, `"`)
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return strings.Join(parts, `'"'`)
}

package bot

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// loadManifest reads the repository's manifest.yaml as JSON-shaped data.
func loadManifest(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../manifest.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	// Round-trip through JSON so the validator sees JSON types only.
	js, err := json.Marshal(doc)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(js)))
	require.NoError(t, err)
	return out.(map[string]any)
}

// compileManifestSchema compiles Slack's manifest JSON Schema.
func compileManifestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/manifest.schema.1.0.0.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(lookaheadRegexp)
	require.NoError(t, c.AddResource("manifest.schema.json", doc))
	s, err := c.Compile("manifest.schema.json")
	require.NoError(t, err)
	return s
}

func TestManifest_Validate(t *testing.T) {
	schema := compileManifestSchema(t)
	t.Run("repository manifest is valid", func(t *testing.T) {
		require.NoError(t, schema.Validate(loadManifest(t)))
	})
	t.Run("schema catches a broken manifest", func(t *testing.T) {
		m := loadManifest(t)
		m["settings"].(map[string]any)["socket_mode"] = true // misspelt key
		require.Error(t, schema.Validate(m))
		m = loadManifest(t)
		delete(m, "display_information")
		require.Error(t, schema.Validate(m))
	})
}

func TestManifest_Contract(t *testing.T) {
	m := loadManifest(t)
	settings := m["settings"].(map[string]any)
	require.Equal(t, true, settings["socket_mode_enabled"])
	require.Equal(t, true, settings["interactivity"].(map[string]any)["is_enabled"])
	events := strs(settings["event_subscriptions"].(map[string]any)["bot_events"])
	for _, e := range []string{"app_mention", "message.channels", "message.groups", "app_home_opened"} {
		require.Contains(t, events, e)
	}
	features := m["features"].(map[string]any)
	require.Equal(t, true, features["app_home"].(map[string]any)["home_tab_enabled"])
	cmds := features["slash_commands"].([]any)
	require.Len(t, cmds, 1)
	require.Equal(t, "/manual-action", cmds[0].(map[string]any)["command"])
	require.NotContains(t, cmds[0], "url", "socket mode needs no request url")
	scopes := strs(m["oauth_config"].(map[string]any)["scopes"].(map[string]any)["bot"])
	for _, s := range []string{"app_mentions:read", "channels:history", "groups:history", "channels:manage",
		"channels:join", "channels:read", "chat:write", "commands", "users:read", "users:read.email"} {
		require.Contains(t, scopes, s)
	}
	require.False(t, slices.Contains(scopes, "chat:write.public"), "the bot joins channels; it does not need to post where it is not")
	require.False(t, slices.Contains(scopes, "admin"), "no admin scope")
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// lookaheadRegexp compiles the schema's patterns with Go's regexp, which
// has no lookahead. Slack's schema uses one form, a leading negative
// lookahead "^(?!A)B", which matches exactly when "^A" does not and "^B"
// does; that form is rewritten, anything else goes to regexp as is.
func lookaheadRegexp(pattern string) (jsonschema.Regexp, error) {
	rest, ok := strings.CutPrefix(pattern, "^(?!")
	if !ok {
		return regexp.Compile(pattern)
	}
	end := strings.Index(rest, ")")
	if end < 0 {
		return nil, fmt.Errorf("unterminated lookahead in %q", pattern)
	}
	not, err := regexp.Compile("^(?:" + rest[:end] + ")")
	if err != nil {
		return nil, err
	}
	must, err := regexp.Compile("^" + rest[end+1:])
	if err != nil {
		return nil, err
	}
	return negLookahead{src: pattern, not: not, must: must}, nil
}

// negLookahead matches "^(?!not)must".
type negLookahead struct {
	src       string
	not, must *regexp.Regexp
}

func (r negLookahead) String() string { return r.src }

func (r negLookahead) MatchString(s string) bool {
	return !r.not.MatchString(s) && r.must.MatchString(s)
}

func TestLookaheadRegexp(t *testing.T) {
	re, err := lookaheadRegexp(`^(?![\.\-])([-a-z0-9\.])+([a-z0-9])$`)
	require.NoError(t, err)
	for s, want := range map[string]bool{"example.com": true, ".example.com": false, "-a.com": false, "a": false, "ab": true, "ab.": false} {
		require.Equal(t, want, re.MatchString(s), s)
	}
}

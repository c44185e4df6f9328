package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Flags is the command-line layer: a non-empty field overrides the layers
// below it. Relative paths given as flags are relative to the working
// directory, as a shell user expects.
type Flags struct {
	DB, Store, Addr, PublicURL, Talkback, LogLevel string
	// Sandbox is --sandbox / --sandbox=false; nil when not given.
	Sandbox *bool
}

// Option changes where Load and LoadFile read their layers.
type Option func(*loader)

// WithEnv reads the environment (the ${NAME} references and the env layer)
// through lookup instead of os.LookupEnv.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(l *loader) { l.lookup = lookup }
}

// WithFlags adds the command-line layer.
func WithFlags(f Flags) Option { return func(l *loader) { l.flags = f } }

type loader struct {
	lookup func(string) (string, bool)
	flags  Flags
}

// Load assembles a configuration whose YAML layer is read from r: defaults
// → YAML → environment → flags → *File secrets → Validate. Relative paths
// in r stay relative to the working directory (use LoadFile to resolve
// them against a file's directory). A nil r means no YAML layer.
func Load(r io.Reader, opts ...Option) (*Config, error) {
	return load(r, "", "", opts)
}

// LoadFile is Load with the YAML layer read from the file at path (none
// when path is empty); relative paths in the file (db, talkback, *File
// settings) are resolved against the file's directory.
func LoadFile(path string, opts ...Option) (*Config, error) {
	if path == "" {
		return load(nil, "", "", opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return load(f, filepath.Dir(path), path, opts)
}

func load(r io.Reader, dir, name string, opts []Option) (*Config, error) {
	l := loader{lookup: os.LookupEnv}
	for _, o := range opts {
		o(&l)
	}
	c := Default()
	if r != nil {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := l.decode(&c, data, dir); err != nil {
			if name == "" {
				return nil, fmt.Errorf("config: %w", err)
			}
			return nil, fmt.Errorf("config %s: %w", name, err)
		}
	}
	if err := l.applyEnv(&c); err != nil {
		return nil, err
	}
	l.applyFlags(&c)
	if err := c.readSecretFiles(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("bad configuration:\n%w", err)
	}
	return &c, nil
}

var (
	envRef      = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	placeholder = regexp.MustCompile(`__cla_env_(\d+)__`)
	quoted      = regexp.MustCompile("`[^`]*`")
)

// decode merges YAML into c. ${NAME} in any value is replaced by the
// environment variable (which must be set); unknown keys are refused so
// that a typo does not silently drop a setting.
//
// References are swapped for inert placeholders before parsing and filled
// in the parsed values, so "${X}" works anywhere YAML allows a word (flow
// maps included) and a value can never inject YAML structure. Decoding
// errors never quote an expanded value: it may be a secret.
func (l *loader) decode(c *Config, data []byte, dir string) error {
	var names []string
	text := []byte(envRef.ReplaceAllStringFunc(string(data), func(ref string) string {
		names = append(names, envRef.FindStringSubmatch(ref)[1])
		return "__cla_env_" + strconv.Itoa(len(names)-1) + "__"
	}))
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		return err
	}
	if len(root.Content) == 0 {
		return nil // an empty file sets nothing
	}
	if err := unknownKeys(text, names); err != nil {
		return err
	}
	refs := map[int][]string{} // line → the references expanded on it
	if err := expandNode(&root, names, l.lookup, refs); err != nil {
		return err
	}
	var fromFile Config
	if err := root.Decode(&fromFile); err != nil {
		return scrub(err, refs)
	}
	if err := root.Decode(c); err != nil {
		return scrub(err, refs)
	}
	if dir != "" {
		dst := c.paths()
		for i, p := range fromFile.paths() {
			if *p != "" && !filepath.IsAbs(*p) {
				*dst[i] = filepath.Join(dir, *p)
			}
		}
		if s := fromFile.Store; s != "" && !strings.Contains(s, "://") && !filepath.IsAbs(s) {
			c.Store = filepath.Join(dir, s) // a bbolt path, not a postgres:// URL
		}
	}
	return nil
}

// unknownKeys reports keys that name no setting. It decodes the text as
// written, placeholders in place, so that line numbers are the file's; type
// errors are left to the decoding of the expanded values.
func unknownKeys(text []byte, names []string) error {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	var probe Config
	var te *yaml.TypeError
	if err := dec.Decode(&probe); !errors.As(err, &te) {
		return nil
	}
	var msgs []string
	for _, m := range te.Errors {
		if strings.Contains(m, "not found in type") {
			msgs = append(msgs, placeholder.ReplaceAllStringFunc(m, func(ph string) string {
				i, _ := strconv.Atoi(placeholder.FindStringSubmatch(ph)[1])
				return "${" + names[i] + "}"
			}))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return &yaml.TypeError{Errors: msgs}
}

// expandNode fills placeholders in scalar values with the environment and
// records, per line, which references it expanded.
func expandNode(n *yaml.Node, names []string, lookup func(string) (string, bool), refs map[int][]string) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "__cla_env_") {
		var missing []string
		n.Value = placeholder.ReplaceAllStringFunc(n.Value, func(ph string) string {
			i, _ := strconv.Atoi(placeholder.FindStringSubmatch(ph)[1])
			if i >= len(names) {
				return ph // written literally in the file, not one of ours
			}
			refs[n.Line] = append(refs[n.Line], "${"+names[i]+"}")
			v, ok := lookup(names[i])
			if !ok {
				missing = append(missing, names[i])
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("line %d: environment variable %s is not set", n.Line, strings.Join(missing, ", "))
		}
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			// Plain: let the expanded value resolve (a port number stays
			// a number), but never to null.
			n.Tag = ""
			switch n.Value {
			case "", "~", "null", "Null", "NULL":
				n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
			}
		}
	}
	for _, c := range n.Content {
		if err := expandNode(c, names, lookup, refs); err != nil {
			return err
		}
	}
	return nil
}

// scrub rewrites a decoding error so that a value that came from the
// environment is named by its reference instead of quoted.
func scrub(err error, refs map[int][]string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New("cannot decode the expanded values")
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		var line int
		if _, serr := fmt.Sscanf(m, "line %d:", &line); serr != nil || refs[line] != nil {
			what := "a value from " + strings.Join(refs[line], ", ")
			if refs[line] == nil {
				what = "a value"
			}
			msgs[i] = quoted.ReplaceAllLiteralString(m, what)
		}
	}
	return &yaml.TypeError{Errors: msgs}
}

// applyEnv is the environment layer.
func (l *loader) applyEnv(c *Config) error {
	set := func(dst *string, key string) {
		if v, ok := l.lookup(key); ok && v != "" {
			*dst = v
		}
	}
	set(&c.DB, "CLA_DB")
	set(&c.Store, "CLA_STORE")
	set(&c.Addr, "CLA_ADDR")
	set(&c.PublicURL, "CLA_PUBLIC_URL")
	set(&c.Talkback, "CLA_TALKBACK")
	set(&c.LogLevel, "CLA_LOG_LEVEL")
	set(&c.Slack.APIURL, "SLACK_API_URL")
	if v, ok := l.lookup("SLACK_APP_TOKEN"); ok && v != "" {
		c.Slack.AppToken = Secret(v)
	}
	if v, ok := l.lookup("SLACK_BOT_TOKEN"); ok && v != "" {
		c.Slack.BotToken = Secret(v)
	}
	if v, ok := l.lookup("CLA_SANDBOX"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("CLA_SANDBOX must be true or false, not %q", v)
		}
		c.Sandbox = &b
	}
	return nil
}

// applyFlags is the command-line layer.
func (l *loader) applyFlags(c *Config) {
	f := l.flags
	for _, p := range []struct{ dst, v *string }{
		{&c.DB, &f.DB}, {&c.Store, &f.Store}, {&c.Addr, &f.Addr}, {&c.PublicURL, &f.PublicURL}, {&c.Talkback, &f.Talkback}, {&c.LogLevel, &f.LogLevel},
	} {
		if *p.v != "" {
			*p.dst = *p.v
		}
	}
	if f.Sandbox != nil {
		c.Sandbox = f.Sandbox
	}
}

// readSecretFiles fills each secret from its *File setting.
func (c *Config) readSecretFiles() error {
	type pair struct {
		what string
		dst  *Secret
		file string
	}
	pairs := []pair{
		{"slack.appToken", &c.Slack.AppToken, c.Slack.AppTokenFile},
		{"slack.botToken", &c.Slack.BotToken, c.Slack.BotTokenFile},
		{"notify.email.password", &c.Notify.Email.Password, c.Notify.Email.PasswordFile},
		{"notify.webhook.secret", &c.Notify.Webhook.Secret, c.Notify.Webhook.SecretFile},
	}
	for i := range c.Identities {
		id := &c.Identities[i]
		pairs = append(pairs, pair{"identity " + id.Name + " token", &id.Token, id.TokenFile})
	}
	for _, p := range pairs {
		if p.file == "" {
			continue
		}
		if *p.dst != "" {
			return fmt.Errorf("%s is given both directly and as a file; keep one", p.what)
		}
		data, err := os.ReadFile(p.file)
		if err != nil {
			return fmt.Errorf("read %s file: %w", p.what, err)
		}
		*p.dst = Secret(strings.TrimRight(string(data), "\r\n"))
		if *p.dst == "" {
			return fmt.Errorf("%s file %s is empty", p.what, p.file)
		}
	}
	return nil
}

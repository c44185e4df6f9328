package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

// defaultServer is where the CLI looks for the API without --server.
const defaultServer = "http://127.0.0.1:8080"

// help is the text a subcommand's --help prints around its flags.
type help struct {
	usage    string // "cla gate <job> --kind KIND --name NAME [flags]"
	about    string
	examples string
}

// newFlags returns a flag set whose --help prints usage, flags and examples.
func newFlags(e *env, name string, h help) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n\nFlags:\n", h.usage, strings.TrimSpace(h.about))
		printFlags(w, fs)
		if h.examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(h.examples, "\n"))
		}
	}
	return fs
}

// parse parses flags placed anywhere among the positional arguments
// ("cla gate qa-1 --kind action" and "cla gate --kind action qa-1").
// ok is false when the caller should exit with code. Mistakes are told in
// the words of the usage line, followed by that line.
func parse(e *env, fs *flag.FlagSet, args []string, want int) (pos []string, code int, ok bool) {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // flag's own messages say -name; we say --name
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(e.stdout)
				usage()
				return nil, exitOK, false
			}
			usageError(e, fs, usage, flagProblem(fs, err))
			return nil, exitError, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if want >= 0 && len(pos) != want {
		usageError(e, fs, usage, argProblem(positionals(usageLine(fs, usage)), pos, want))
		return nil, exitError, false
	}
	return pos, exitOK, true
}

// usageError prints a mistake, the command's usage line and where help is.
func usageError(e *env, fs *flag.FlagSet, usage func(), problem string) {
	e.errorf("%s: %s\nUsage: %s\nRun 'cla %s --help' for details and examples.", fs.Name(), problem, usageLine(fs, usage), fs.Name())
}

// usageLine is the "cla gate <job> ..." line that the --help text starts with.
func usageLine(fs *flag.FlagSet, usage func()) string {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	usage()
	fs.SetOutput(out)
	_, rest, _ := strings.Cut(b.String(), "Usage:\n")
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
}

// positionals are the arguments a usage line names before its first
// option: "<job>", "retry|skip|abort".
func positionals(line string) []string {
	words := strings.Fields(line)
	var out []string
	for i, w := range words {
		if i == 0 || w[0] == '[' || w[0] == '-' || w[0] == '(' {
			if i > 0 {
				break
			}
			continue
		}
		if w[0] == '<' || strings.Contains(w, "|") {
			out = append(out, w)
		}
	}
	return out
}

// argProblem says which argument is missing or which one is extra.
func argProblem(names, got []string, want int) string {
	if len(got) > want {
		return fmt.Sprintf("unexpected argument %q", got[want])
	}
	if len(got) < len(names) {
		switch n := names[len(got)]; {
		case n == "<job>":
			return "missing the job id"
		case strings.HasPrefix(n, "<"):
			return "missing the " + strings.ReplaceAll(strings.Trim(n, "<>"), "-", " ")
		default:
			choices := strings.Split(n, "|")
			return fmt.Sprintf("missing an argument: one of %s or %s", strings.Join(choices[:len(choices)-1], ", "), choices[len(choices)-1])
		}
	}
	return fmt.Sprintf("expected %d arguments, got %d", want, len(got))
}

// badValue matches the flag package's "invalid value" errors.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-(\S+): `)

// valueKinds says in words what a typed flag takes.
var valueKinds = map[string]string{
	"*flag.intValue": "a whole number", "*flag.int64Value": "a whole number", "*flag.uintValue": "a whole number (0 or more)",
	"*flag.uint64Value": "a whole number (0 or more)", "*flag.float64Value": "a number", "*flag.boolValue": "true or false",
	"*flag.durationValue": "a duration like 90s, 15m or 4h",
}

// flagProblem words a flag package error the way flags are typed here
// (--name, not -name) and says what a bad value should look like.
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		if f := fs.Lookup(m[2]); f != nil && valueKinds[fmt.Sprintf("%T", f.Value)] != "" {
			return fmt.Sprintf("--%s must be %s, not %s", m[2], valueKinds[fmt.Sprintf("%T", f.Value)], m[1])
		}
		return fmt.Sprintf("--%s: %s is not valid: %s", m[2], m[1], msg[len(m[0]):])
	}
	return msg
}

// printFlags lists flags GNU-style (--name VALUE), which is how people
// type them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		left := "  --" + f.Name
		if name != "" {
			left += " " + strings.ToUpper(name)
		}
		if _, ok := f.Value.(interface{ IsBoolFlag() bool }); ok {
			left = "  --" + f.Name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			use += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		if len(left) <= 26 {
			fmt.Fprintf(w, "%-26s %s\n", left, use)
		} else {
			fmt.Fprintf(w, "%s\n%-26s %s\n", left, "", use)
		}
	})
}

// listFlag is a repeatable string flag (--assignee a --assignee b); a value
// may also list several, separated by commas.
type listFlag []string

// String implements fmt.Stringer (and flag.Value).
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// rawListFlag is a repeatable flag whose values may contain commas.
type rawListFlag []string

// String implements fmt.Stringer (and flag.Value).
func (l *rawListFlag) String() string { return strings.Join(*l, "; ") }

// Set implements flag.Value.
func (l *rawListFlag) Set(v string) error { *l = append(*l, v); return nil }

// clientFlags are the flags of every command that talks to a server.
type clientFlags struct {
	server, token, db, output string
	// tokenFrom says where the token came from (--token, CLA_TOKEN or the
	// file), or is empty when none was found, for error messages.
	tokenFrom string
}

func (c *clientFlags) register(fs *flag.FlagSet, e *env) {
	server := e.getenv("CLA_SERVER")
	if server == "" {
		server = defaultServer
	}
	db := e.getenv("CLA_DB")
	if db == "" {
		db = "cla.db"
	}
	fs.StringVar(&c.server, "server", server, "API base `URL` (env CLA_SERVER)")
	fs.StringVar(&c.token, "token", "", "API bearer `TOKEN` (env CLA_TOKEN; else cla.token next to --db)")
	fs.StringVar(&c.db, "db", db, "database `PATH` of a local server, to find its cla.token (env CLA_DB)")
	fs.StringVar(&c.output, "output", "text", "output `FORMAT`: text or json")
}

// client builds an API client, finding the token by the documented order:
// --token, CLA_TOKEN, then the cla.token file next to the database.
func (c *clientFlags) client(e *env) (*client.Client, error) {
	if c.output != "text" && c.output != "json" {
		return nil, fmt.Errorf("--output must be text or json, not %q", c.output)
	}
	token := c.token
	c.tokenFrom = "--token"
	if token == "" {
		token, c.tokenFrom = e.getenv("CLA_TOKEN"), "CLA_TOKEN"
	}
	if token == "" {
		c.tokenFrom = ""
		for _, p := range []string{tokenPath(c.db), rememberedTokenPath(e.getenv)} {
			if p == "" {
				continue
			}
			if data, err := os.ReadFile(p); err == nil {
				token, c.tokenFrom = strings.TrimSpace(string(data)), p
				break
			}
		}
	}
	server := c.server
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	if u, err := url.Parse(server); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("--server %q must be a URL like http://127.0.0.1:8080", c.server)
	}
	cl := client.New(server, token)
	cl.Via = jobs.ViaCLI
	return cl, nil
}

// tokenPath is where serve keeps the admin token it created: next to the
// database file.
func tokenPath(db string) string { return filepath.Join(filepath.Dir(db), "cla.token") }

// fail prints an error from the API or the network in words that say what
// to do, and returns exitError.
func (c *clientFlags) fail(e *env, what string, err error) int {
	var ae *client.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == "unauthorized" && c.tokenFrom == "":
		e.errorf("%s: no API token.\nPass --token TOKEN or set CLA_TOKEN; on the server's machine, run next to its database or point --db (CLA_DB) at it (no token file at %s, and none recorded in %s).",
			what, tokenPath(c.db), tokenPointer(e.getenv))
	case errors.As(err, &ae) && ae.Code == "unauthorized":
		e.errorf("%s: the server refused the token from %s: %s\nCheck the token, or ask the server's admin for one.", what, c.tokenFrom, ae.Message)
	case errors.As(err, &ae) && ae.Hint != "":
		e.errorf("%s: %s (%s)\nhint: %s", what, ae.Message, ae.Code, ae.Hint)
	case errors.As(err, &ae):
		e.errorf("%s: %s (%s)", what, ae.Message, ae.Code)
	case client.Temporary(err):
		e.errorf("%s: cannot reach the cla server at %s (%s).\nIs 'cla serve' running there? Point --server or CLA_SERVER at it.", what, c.server, netProblem(err))
	default:
		e.errorf("%s: %v", what, err)
	}
	return exitError
}

// netProblem is the heart of a network error ("connect: connection
// refused"), without the URL that the message around it already names.
func netProblem(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/web/client"
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
// ok is false when the caller should exit with code.
func parse(e *env, fs *flag.FlagSet, args []string, want int) (pos []string, code int, ok bool) {
	usage := fs.Usage
	fs.Usage = func() {} // flag prints the error; we print usage below
	defer func() { fs.Usage = usage }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(e.stdout)
				usage()
				return nil, exitOK, false
			}
			fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", "cla "+fs.Name())
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
		e.errorf("%s: expected %d argument(s), got %d: %q\nRun 'cla %s --help' for usage.", fs.Name(), want, len(pos), pos, fs.Name())
		return nil, exitError, false
	}
	return pos, exitOK, true
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

func (l *listFlag) String() string { return strings.Join(*l, ",") }

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

func (l *rawListFlag) String() string     { return strings.Join(*l, "; ") }
func (l *rawListFlag) Set(v string) error { *l = append(*l, v); return nil }

// clientFlags are the flags of every command that talks to a server.
type clientFlags struct {
	server, token, db, output string
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
	if token == "" {
		token = e.getenv("CLA_TOKEN")
	}
	if token == "" {
		data, err := os.ReadFile(tokenPath(c.db))
		if err == nil {
			token = strings.TrimSpace(string(data))
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
	case errors.As(err, &ae) && ae.Code == "unauthorized":
		e.errorf("%s: %s\nThe server did not accept the token. Pass --token, set CLA_TOKEN, or run next to the server's database (cla.token in %s).",
			what, ae.Message, filepath.Dir(c.db))
	case errors.As(err, &ae):
		e.errorf("%s: %s (%s)", what, ae.Message, ae.Code)
	case client.Temporary(err):
		e.errorf("%s: cannot reach the cla server at %s: %v\nIs 'cla serve' running? Set --server or CLA_SERVER.", what, c.server, err)
	default:
		e.errorf("%s: %v", what, err)
	}
	return exitError
}

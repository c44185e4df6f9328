// Package internal_test enforces the import arrows of DESIGN.md over the
// whole module, so the layout that README "Architecture" draws stays true.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cla-ops/cla"

// rule forbids packages under from (a module-relative path) to import
// packages under any of to. A path covers itself and its subpackages.
type rule struct {
	why  string
	from []string
	to   []string
}

var rules = []rule{
	{"the domain imports nothing of the project", []string{"jobs"}, []string{""}},
	{"the stores do not know Slack", []string{"internal/store", "internal/pgstore"}, []string{"internal/bot", "slackemu"}},
	{"Slack does not reach past the domain into a store", []string{"internal/bot"}, []string{"internal/store", "internal/pgstore"}},
	{"the web API does not know Slack", []string{"internal/web"}, []string{"internal/bot"}},
	{"public packages do not expose internal ones", []string{"jobs", "client", "slackemu"}, []string{"internal"}},
	{"configuration is read by the command only", []string{"jobs", "client", "slackemu", "internal"}, []string{"internal/config"}},
}

// TestLayout_ImportArrows reads the imports of every non-test Go file of
// the module and checks them against the rules.
func TestLayout_ImportArrows(t *testing.T) {
	imports := moduleImports(t)
	if _, ok := imports["jobs"]; !ok || len(imports["internal/bot"]) == 0 {
		t.Fatalf("found no jobs package or no imports of internal/bot: is the test run from internal/?")
	}
	var broken []string
	for pkg, deps := range imports {
		for _, dep := range deps {
			if why, bad := forbidden(pkg, dep); bad {
				broken = append(broken, pkg+" imports "+dep+": "+why)
			}
		}
	}
	sort.Strings(broken)
	if len(broken) > 0 {
		t.Fatalf("import arrows broken:\n%s", strings.Join(broken, "\n"))
	}
}

// TestLayout_RulesCatch proves the checker would notice a broken arrow.
func TestLayout_RulesCatch(t *testing.T) {
	cases := []struct {
		pkg, dep string
		want     bool
	}{
		{"jobs", "internal/store", true},
		{"jobs", "client", true},
		{"internal/bot/gates", "internal/store", true},
		{"internal/web/monitor", "internal/bot/blocks", true},
		{"slackemu/cmd/slackemu", "internal/config", true},
		{"internal/store", "internal/bot", true},
		{"internal/bot", "jobs", false},
		{"internal/storetest", "internal/bot", false}, // a prefix of a name is not a parent
		{"cmd/cla", "internal/store", false},
		{"cmd/cla", "internal/config", false},
		{"internal/bot", "internal/bot/blocks", false},
	}
	for _, c := range cases {
		if _, hit := forbidden(c.pkg, c.dep); hit != c.want {
			t.Errorf("%s → %s: forbidden = %v, want %v", c.pkg, c.dep, hit, c.want)
		}
	}
}

// allowed lists known exceptions, each to be removed when fixed.
var allowed = map[string]bool{}

// forbidden says whether pkg may not import dep, and why.
func forbidden(pkg, dep string) (string, bool) {
	if allowed[pkg+" → "+dep] {
		return "", false
	}
	for _, r := range rules {
		if under(pkg, r.from) && under(dep, r.to) {
			return r.why, true
		}
	}
	return "", false
}

// under reports whether pkg is one of roots or below one ("" is the module).
func under(pkg string, roots []string) bool {
	for _, r := range roots {
		if r == "" || pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// moduleImports maps each package directory (module-relative) to the
// project packages its non-test files import.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above internal/: %v", err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == module || strings.HasPrefix(p, module+"/") {
				out[pkg] = append(out[pkg], strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
			}
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package internal_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// sourceFiles parses every non-test Go file of the module and calls fn
// with its module-relative path.
func sourceFiles(t *testing.T, fn func(rel string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
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
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fn(filepath.ToSlash(rel), fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sentinelName reports whether an identifier names a sentinel error:
// io.EOF, ErrX, errX.
func sentinelName(e ast.Expr) (string, bool) {
	var name string
	switch e := e.(type) {
	case *ast.Ident:
		name = e.Name
	case *ast.SelectorExpr:
		name = e.Sel.Name
	default:
		return "", false
	}
	if name == "EOF" {
		return name, true
	}
	for _, p := range []string{"Err", "err"} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" && unicode.IsUpper(rune(rest[0])) {
			return name, true
		}
	}
	return "", false
}

// TestSource_SentinelErrorsUseErrorsIs: a sentinel error is compared with
// errors.Is, which sees through wrapping; == does not.
func TestSource_SentinelErrorsUseErrorsIs(t *testing.T) {
	sourceFiles(t, func(rel string, fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			for _, side := range []ast.Expr{b.X, b.Y} {
				if name, ok := sentinelName(side); ok {
					t.Errorf("%s: compares %s with %s; use errors.Is", fset.Position(b.Pos()), name, b.Op)
				}
			}
			return true
		})
	})
}

// TestSource_StoreWritesChecked: in the bbolt store, no write (Put,
// Delete, NextSequence, bucket creation) drops its error.
func TestSource_StoreWritesChecked(t *testing.T) {
	writes := map[string]bool{"Put": true, "Delete": true, "NextSequence": true, "SetSequence": true,
		"CreateBucket": true, "CreateBucketIfNotExists": true, "DeleteBucket": true}
	dropped := func(e ast.Expr) (string, bool) {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return "", false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return "", false
		}
		return sel.Sel.Name, writes[sel.Sel.Name]
	}
	sourceFiles(t, func(rel string, fset *token.FileSet, f *ast.File) {
		if !strings.HasPrefix(rel, "internal/store/") {
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch s := n.(type) {
			case *ast.ExprStmt:
				if name, ok := dropped(s.X); ok {
					t.Errorf("%s: the error of %s is dropped", fset.Position(s.Pos()), name)
				}
			case *ast.AssignStmt:
				if len(s.Rhs) != 1 {
					return true
				}
				if name, ok := dropped(s.Rhs[0]); ok {
					if last, isIdent := s.Lhs[len(s.Lhs)-1].(*ast.Ident); isIdent && last.Name == "_" {
						t.Errorf("%s: the error of %s is assigned to _", fset.Position(s.Pos()), name)
					}
				}
			}
			return true
		})
	})
}

package jobs

import (
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the domain free of adapters: no Slack, bbolt, net/http,
// expr, and nothing of this project.
func TestImports(t *testing.T) {
	files, err := os.ReadDir(".")
	require.NoError(t, err)
	allowedExternal := map[string]bool{"github.com/robfig/cron/v3": true}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f.Name(), nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			stdlib := !strings.Contains(strings.Split(path, "/")[0], ".")
			require.False(t, path == "net/http" || strings.HasPrefix(path, "net/http/"), "%s imports %s", f.Name(), path)
			require.True(t, stdlib || allowedExternal[path], "%s imports %s", f.Name(), path)
		}
	}
}

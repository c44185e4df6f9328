package jobs

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestAnnotationKey: whatever key a caller sends, the single-use key is
// text every store keeps (no NUL, valid UTF-8, bounded), and different
// keys or jobs never share one.
func TestAnnotationKey(t *testing.T) {
	keys := []string{"slack-file:C1:1.2:F1", "a\x00b", "\xff\xfe", strings.Repeat("k", 10000), ""}
	seen := map[string]string{}
	for _, job := range []string{"qa-1", "qa-12"} {
		for _, k := range keys {
			got := annotationKey(job, k)
			require.True(t, utf8.ValidString(got), "%q", got)
			require.NotContains(t, got, "\x00")
			require.LessOrEqual(t, len(got), 128)
			require.True(t, strings.HasPrefix(got, "annotation:"+job+":"))
			prev, dup := seen[got]
			require.False(t, dup, "%s/%q and %s share a key", job, k, prev)
			seen[got] = job + "/" + k
		}
	}
	require.Equal(t, annotationKey("qa-1", "x"), annotationKey("qa-1", "x"), "the same key is spent again")
}

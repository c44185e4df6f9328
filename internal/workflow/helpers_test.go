package workflow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// childEnv makes the test binary act as `cla run` (workflow.Main) with the
// arguments after "--", so that a test can SIGKILL a real run.
const childEnv = "CLA_WORKFLOW_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(Main(context.Background(), args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fixture is a temporary directory with a workflow file and a state dir.
type fixture struct {
	t     *testing.T
	dir   string
	file  string
	state string
}

// newFixture writes the workflow; %[1]s in it is replaced by the
// directory, where steps leave their marker files.
func newFixture(t *testing.T, workflow string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, file: filepath.Join(dir, "wf.yaml"), state: filepath.Join(dir, "state")}
	src := strings.ReplaceAll(workflow, "%[1]s", dir)
	require.NoError(t, os.WriteFile(f.file, []byte(src), 0o644))
	return f
}

// run calls Main with the fixture's workflow and state dir.
func (f *fixture) run(extra ...string) (int, string, string) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{"--state-dir", f.state}, extra...)
	args = append(args, f.file)
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runs counts the lines of a marker file: how often a step ran.
func (f *fixture) runs(name string) int {
	f.t.Helper()
	raw, err := os.ReadFile(filepath.Join(f.dir, name))
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(f.t, err)
	return strings.Count(string(raw), "\n")
}

// marker is a shell command that appends a line to name.runs.
func marker(name string) string {
	return fmt.Sprintf(`echo run >> %%[1]s/%s.runs`, name)
}

func writeFile(path string) error { return os.WriteFile(path, nil, 0o644) }

// recv takes the next value from ch, failing the test if none arrives
// within 30 s instead of hanging until the test binary times out.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("nothing received within 30s")
		panic("unreachable")
	}
}

// Main reads a `cla run` command line the way cmd/cla does for the flags
// these tests use, and executes it. The real command line (help, usage
// mistakes) is tested in cmd/cla.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv := Invocation{Server: os.Getenv("CLA_SERVER"), Token: os.Getenv("CLA_TOKEN"), Env: Environ()}
	for i := 0; i < len(args); i++ {
		a := "--" + strings.TrimLeft(args[i], "-")
		next := func() string {
			i++
			if i < len(args) {
				return args[i]
			}
			return ""
		}
		switch a {
		case "--state-store":
			inv.StateStore = next()
		case "--state-dir":
			inv.StateDir = next()
		case "--server":
			inv.Server = next()
		case "--token":
			inv.Token = next()
		case "--run-id":
			inv.RunID = next()
		case "--output":
			inv.Output = next()
		case "--parallel":
			inv.Parallel, _ = strconv.Atoi(next())
		case "--paused-exit-code":
			n, _ := strconv.Atoi(next())
			inv.PausedExitCode = &n
		case "--fresh":
			inv.Fresh = true
		case "--no-wait":
			inv.NoWait = true
		default:
			if strings.HasPrefix(args[i], "-") {
				fmt.Fprintf(stderr, "test Main: unknown flag %s\n", args[i])
				return ExitUsage
			}
			inv.File = args[i]
		}
	}
	return Execute(ctx, inv, stdout, stderr)
}

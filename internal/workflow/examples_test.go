package workflow

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const examplesDir = "../../examples"

func TestExamples_ReleaseWorkflowParses(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(examplesDir, "release.workflow.yaml"))
	require.NoError(t, err)
	w, err := Parse("release.workflow.yaml", src)
	require.NoError(t, err)
	require.Equal(t, "release", w.Name)
	require.True(t, w.Step("deploy-staging").Pause)
	require.NotNil(t, w.Step("deploy-production").Trap)
}

// gitlabCI is the part of .gitlab-ci.yml the recipe relies on.
type gitlabJob struct {
	Stage     string   `yaml:"stage"`
	When      string   `yaml:"when"`
	Script    []string `yaml:"script"`
	Artifacts struct {
		Paths []string `yaml:"paths"`
		When  string   `yaml:"when"`
	} `yaml:"artifacts"`
	AllowFailure struct {
		ExitCodes []int `yaml:"exit_codes"`
	} `yaml:"allow_failure"`
}

// TestExamples_GitLabFakeCI plays the GitLab recipe with a local fake CI:
// the release job's `cla run` exits 3 at the pause (allowed), then the
// manual job's `cla run` with the same state directory completes it, and
// no step runs twice.
func TestExamples_GitLabFakeCI(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(examplesDir, "gitlab-ci.yml"))
	require.NoError(t, err)
	var ci struct {
		Stages  []string  `yaml:"stages"`
		Release gitlabJob `yaml:"release"`
		Resume  gitlabJob `yaml:"resume-production"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &ci))
	release, resume := ci.Release, ci.Resume
	require.Equal(t, []string{release.Stage, resume.Stage}, ci.Stages)
	require.Equal(t, "manual", resume.When)
	require.Contains(t, release.Artifacts.Paths, ".cla/state/")
	require.Equal(t, "always", release.Artifacts.When, "a paused job must still hand over its state")
	require.Equal(t, []int{ExitPaused}, release.AllowFailure.ExitCodes)

	workspace := t.TempDir()
	log := filepath.Join(workspace, "release.log")
	t.Setenv("RELEASE_LOG", log)
	t.Setenv("CI_COMMIT_TAG", "v1.2.3")
	require.Equal(t, ExitPaused, runScript(t, workspace, release.Script))
	require.Equal(t, []string{"build v1.2.3", "deploy-staging v1.2.3", "lint", "test"}, sortedLines(t, log))
	require.FileExists(t, filepath.Join(workspace, ".cla/state/release.json"))

	require.Equal(t, ExitDone, runScript(t, workspace, resume.Script))
	require.Equal(t, []string{"build v1.2.3", "deploy-production v1.2.3", "deploy-staging v1.2.3", "lint", "smoke", "test"},
		sortedLines(t, log))
}

// TestExamples_GitHubActions checks the GitHub recipe's shape and plays its
// cross-run pattern against a real server: the push run pauses, and the
// workflow_dispatch run resumes from the server state alone.
func TestExamples_GitHubActions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(examplesDir, "github-actions.yml"))
	require.NoError(t, err)
	var gh struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &gh))
	require.Contains(t, gh.On, "workflow_dispatch")
	var all []string
	for _, job := range gh.Jobs {
		for _, s := range job.Steps {
			all = append(all, s.Run)
		}
	}
	joined := strings.Join(all, "\n")
	require.Regexp(t, `cla gate .+ --kind approval .*--wait`, joined)
	require.Contains(t, joined, "cla run --state-store server")

	srv := newClaServer(t)
	log := filepath.Join(t.TempDir(), "release.log")
	t.Setenv("RELEASE_LOG", log)
	t.Setenv("GITHUB_REF_NAME", "v9.0.0")
	t.Setenv("CI_COMMIT_TAG", "")
	args := func(dir string) []string {
		return append(srv.args("4242", "--state-store", "server", "--state-dir", dir), filepath.Join(examplesDir, "release.workflow.yaml"))
	}
	var out bytes.Buffer
	require.Equal(t, ExitPaused, Main(context.Background(), args(t.TempDir()), &out, &out), out.String())
	require.Equal(t, ExitDone, Main(context.Background(), args(t.TempDir()), &out, &out), out.String())
	require.Contains(t, sortedLines(t, log), "deploy-production v9.0.0")
	require.Len(t, sortedLines(t, log), 6)
}

var claRun = regexp.MustCompile(`^cla run (.*)$`)

// runScript runs the `cla run` lines of a CI script in workspace (paths in
// the script are relative to the repository root) and returns the last
// exit code.
func runScript(t *testing.T, workspace string, script []string) int {
	t.Helper()
	code := -1
	for _, line := range script {
		m := claRun.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		var args []string
		for _, a := range strings.Fields(m[1]) {
			switch {
			case strings.HasPrefix(a, "examples/"):
				a = filepath.Join(examplesDir, strings.TrimPrefix(a, "examples/"))
			case strings.HasPrefix(a, ".cla/"):
				a = filepath.Join(workspace, a)
			}
			args = append(args, a)
		}
		var out bytes.Buffer
		code = Main(context.Background(), args, &out, &out)
		t.Log(out.String())
	}
	require.NotEqual(t, -1, code, "the script has no cla run line")
	return code
}

func sortedLines(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	sort.Strings(lines)
	return lines
}

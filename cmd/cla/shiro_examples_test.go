package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// fakeCI plays a CI system's part for the examples: every job gets a fresh
// checkout of the example directory, artifacts travel only as the CI
// file says, script lines run in sh with the real cla binary (and a fake
// kubectl) on PATH, and Slack's incoming webhook is a local recorder.
type fakeCI struct {
	t         *testing.T
	checkout  string            // the example directory, copied into each job's workspace
	env       map[string]string // the CI's predefined variables and secrets
	artifacts map[string]string // artifact name (or job name) -> saved directory
	bin       string            // PATH entry with cla and kubectl
	kubectl   string            // file the fake kubectl appends its arguments to
	slack     *slackRecorder
}

func newFakeCI(t *testing.T, checkout string) *fakeCI {
	t.Helper()
	bin := t.TempDir()
	require.NoError(t, os.Symlink(claBin, filepath.Join(bin, "cla")))
	ci := &fakeCI{t: t, checkout: checkout, env: map[string]string{}, artifacts: map[string]string{}, bin: bin,
		kubectl: filepath.Join(t.TempDir(), "kubectl.calls"), slack: newSlackRecorder(t)}
	script := "#!/bin/sh\necho \"$*\" >> " + ci.kubectl + "\necho applied\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "kubectl"), []byte(script), 0o755))
	ci.env["SLACK_WEBHOOK_URL"] = ci.slack.url
	return ci
}

// workspace is a fresh checkout for one job.
func (ci *fakeCI) workspace() string {
	ws := filepath.Join(ci.t.TempDir(), "checkout")
	require.NoError(ci.t, os.CopyFS(ws, os.DirFS(ci.checkout)))
	return ws
}

// sh runs one script line in ws and returns its exit code and output.
func (ci *fakeCI) sh(ws, line string, extra map[string]string) (int, string) {
	ci.t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = ws
	cmd.Env = []string{"PATH=" + ci.bin + ":" + os.Getenv("PATH"), "HOME=" + ws}
	for _, m := range []map[string]string{ci.env, extra} {
		for k, v := range m {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(ci.t, err)
	}
	ci.t.Logf("$ %s  (exit %d)\n%s", line, code, out)
	return code, string(out)
}

// save keeps paths of ws as the artifact name.
func (ci *fakeCI) save(name, ws string, paths []string) {
	ci.t.Helper()
	store := filepath.Join(ci.t.TempDir(), "artifact")
	for _, p := range paths {
		src := filepath.Join(ws, p)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		require.NoError(ci.t, os.CopyFS(filepath.Join(store, p), os.DirFS(src)))
	}
	ci.artifacts[name] = store
}

// restore unpacks artifact name into dir.
func (ci *fakeCI) restore(name, dir string) {
	ci.t.Helper()
	store, ok := ci.artifacts[name]
	require.True(ci.t, ok, "no artifact %q", name)
	require.NoError(ci.t, os.CopyFS(dir, os.DirFS(store)))
}

func (ci *fakeCI) kubectlCalls() []string {
	raw, err := os.ReadFile(ci.kubectl)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(ci.t, err)
	return strings.Split(strings.TrimSpace(string(raw)), "\n")
}

// slackRecorder is Slack's incoming webhook: it keeps every message.
type slackRecorder struct {
	url  string
	mu   sync.Mutex
	msgs []map[string]any
}

func newSlackRecorder(t *testing.T) *slackRecorder {
	r := &slackRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || req.Method != http.MethodPost {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/services/T000/B000/XXXX"
	return r
}

func (r *slackRecorder) messages() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.msgs...)
}

// button is the link button of a webhook message: its label and URL.
func button(t *testing.T, msg map[string]any) (string, string) {
	t.Helper()
	for _, b := range msg["blocks"].([]any) {
		block := b.(map[string]any)
		if block["type"] == "actions" {
			el := block["elements"].([]any)[0].(map[string]any)
			return el["text"].(map[string]any)["text"].(string), el["url"].(string)
		}
	}
	return "", ""
}

// gitlabJob is what the fake CI reads of a .gitlab-ci.yml job.
type gitlabJob struct {
	Stage     string   `yaml:"stage"`
	When      string   `yaml:"when"`
	Needs     []string `yaml:"needs"`
	Script    []string `yaml:"script"`
	Artifacts struct {
		When  string   `yaml:"when"`
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
}

// runGitLabJob runs a job's script the way a GitLab runner does (stop at
// the first failing line) and keeps its artifacts.
func (ci *fakeCI) runGitLabJob(name string, job gitlabJob) (int, string) {
	ws := ci.workspace()
	for _, need := range job.Needs {
		ci.restore(need, ws)
	}
	vars := map[string]string{"CI_PROJECT_DIR": ws, "CI_JOB_NAME": name}
	code, all := 0, ""
	for _, line := range job.Script {
		var out string
		code, out = ci.sh(ws, line, vars)
		all += out
		if code != 0 {
			break
		}
	}
	if job.Artifacts.When == "always" || code == 0 {
		ci.save(name, ws, job.Artifacts.Paths)
	}
	return code, all
}

// TestShiroExample_GitLab runs shiro's "Complete Example Workflow", saved
// as its docs print it, through shiro's two-job GitLab pattern with only
// "shiro" changed to "cla": the first job pauses after the approval
// request and passes (exit 0), so the manual resume job can run; it
// deploys and notifies without running the first steps again.
func TestShiroExample_GitLab(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "shiro")
	raw, err := os.ReadFile(filepath.Join(dir, "gitlab-ci.yml"))
	require.NoError(t, err)
	var pipeline struct {
		Stages []string  `yaml:"stages"`
		Deploy gitlabJob `yaml:"deploy-with-approval"`
		Resume gitlabJob `yaml:"resume-deployment"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &pipeline))
	require.Equal(t, []string{"cla run -state-store gitlab -fresh"}, pipeline.Deploy.Script)
	require.Equal(t, []string{"cla run -state-store gitlab"}, pipeline.Resume.Script)
	require.Equal(t, "manual", pipeline.Resume.When)
	require.Equal(t, []string{".cla/state/"}, pipeline.Deploy.Artifacts.Paths)

	ci := newFakeCI(t, dir)
	for k, v := range map[string]string{"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com", "CI_PROJECT_ID": "42",
		"CI_PIPELINE_ID": "777", "CI_COMMIT_REF_NAME": "main"} {
		ci.env[k] = v
	}

	code, out := ci.runGitLabJob("deploy-with-approval", pipeline.Deploy)
	require.Equal(t, 0, code, "a pause must pass the job so the manual job can run:\n%s", out)
	require.Contains(t, out, "paused after request_approval; run the resume job")
	require.Contains(t, out, "Preparing deployment...")
	require.Empty(t, ci.kubectlCalls(), "nothing is deployed before the approval")
	msgs := ci.slack.messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "#deployments", msgs[0]["channel"])
	require.Equal(t, "Ready to deploy main. Please review.", msgs[0]["text"])
	label, url := button(t, msgs[0])
	require.Equal(t, "Review in GitLab", label)
	require.Equal(t, "https://gitlab.example.com/42/-/pipelines/777", url)

	code, out = ci.runGitLabJob("resume-deployment", pipeline.Resume)
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "Preparing deployment...", "finished steps do not run again")
	require.Contains(t, out, "done")
	require.Equal(t, []string{"apply -f k8s/production.yaml"}, ci.kubectlCalls())
	msgs = ci.slack.messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "Deployment completed!", msgs[1]["text"])

	// Running the manual job again (a retry) changes nothing.
	code, out = ci.runGitLabJob("resume-deployment", gitlabJob{Script: pipeline.Resume.Script, Needs: []string{"resume-deployment"}})
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "already completed")
	require.Len(t, ci.kubectlCalls(), 1)
}

// TestShiroExample_GitLabWithoutArtifacts shows why the artifacts stanza
// matters: a resume job without the first job's state has nothing to
// resume and says so, and deploys nothing.
func TestShiroExample_GitLabWithoutArtifacts(t *testing.T) {
	ci := newFakeCI(t, filepath.Join("..", "..", "examples", "shiro"))
	ci.env["CI_SERVER_URL"], ci.env["CI_PROJECT_ID"], ci.env["CI_PIPELINE_ID"] = "https://gitlab.example.com", "42", "9"
	ci.env["CI_COMMIT_REF_NAME"] = "main"
	code, out := ci.runGitLabJob("resume-deployment", gitlabJob{Script: []string{"cla run -state-store gitlab"}})
	// Without state the run starts from the beginning and pauses again:
	// nothing is deployed without an approval.
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "paused after request_approval")
	require.Empty(t, ci.kubectlCalls())
}

// githubStep is what the fake CI reads of a GitHub Actions step.
type githubStep struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	With map[string]string `yaml:"with"`
}

type githubJob struct {
	Needs       string       `yaml:"needs"`
	Environment string       `yaml:"environment"`
	Steps       []githubStep `yaml:"steps"`
}

var secretRef = regexp.MustCompile(`\$\{\{\s*secrets\.(\w+)\s*\}\}`)

// runGitHubJob runs a job's steps the way a runner does: checkout,
// download-artifact, run (stop at the first failure) and upload-artifact
// (with if: always(), also after a failure; hidden files only with
// include-hidden-files).
func (ci *fakeCI) runGitHubJob(job githubJob, env map[string]string) (int, string) {
	ws := filepath.Join(ci.t.TempDir(), "ws")
	require.NoError(ci.t, os.MkdirAll(ws, 0o755))
	vars := map[string]string{"GITHUB_WORKSPACE": ws}
	for k, v := range env {
		vars[k] = v
	}
	code, all := 0, ""
	for _, s := range job.Steps {
		if code != 0 && s.If != "always()" {
			continue
		}
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			require.NoError(ci.t, os.CopyFS(ws, os.DirFS(ci.checkout)))
		case strings.HasPrefix(s.Uses, "actions/download-artifact@"):
			ci.restore(s.With["name"], filepath.Join(ws, s.With["path"]))
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			require.Equal(ci.t, "true", s.With["include-hidden-files"], ".cla/state is hidden: upload-artifact skips it otherwise")
			_, taken := ci.artifacts[s.With["name"]]
			require.False(ci.t, taken, "upload-artifact@v4 refuses a name already used in the run")
			ci.save(s.With["name"], filepath.Join(ws, s.With["path"]), []string{"."})
		case s.Run != "":
			var out string
			code, out = ci.sh(ws, s.Run, vars)
			all += out
		}
	}
	return code, all
}

// TestShiroExample_GitHubActions runs the GitHub Actions equivalent: the
// first job pauses (exit 0) and uploads the state; the resume job, after
// the environment's reviewer approves, downloads it and finishes.
func TestShiroExample_GitHubActions(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "shiro-github")
	raw, err := os.ReadFile(filepath.Join(dir, "deploy.yml"))
	require.NoError(t, err)
	var wf struct {
		Env  map[string]string    `yaml:"env"`
		Jobs map[string]githubJob `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	deploy, resume := wf.Jobs["deploy-with-approval"], wf.Jobs["resume-deployment"]
	require.Equal(t, "deploy-with-approval", resume.Needs)
	require.Equal(t, "production", resume.Environment, "the environment's required reviewers are the manual approval")

	ci := newFakeCI(t, dir)
	secrets := map[string]string{"SLACK_WEBHOOK_URL": ci.slack.url}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_RUN_ID": "555", "GITHUB_REF_NAME": "main"}
	for k, v := range wf.Env {
		env[k] = secretRef.ReplaceAllStringFunc(v, func(m string) string { return secrets[secretRef.FindStringSubmatch(m)[1]] })
	}

	code, out := ci.runGitHubJob(deploy, env)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "paused after request_approval; run the resume job")
	msgs := ci.slack.messages()
	require.Len(t, msgs, 1)
	label, url := button(t, msgs[0])
	require.Equal(t, "Review in GitHub", label)
	require.Equal(t, "https://github.com/acme/shop/actions/runs/555", url)
	require.Empty(t, ci.kubectlCalls())

	code, out = ci.runGitHubJob(resume, env)
	require.Equal(t, 0, code, out)
	require.Equal(t, []string{"apply -f k8s/production.yaml"}, ci.kubectlCalls())
	require.Len(t, ci.slack.messages(), 2)
}

// TestRunCommand_Line checks `cla run`'s command line: -flag and --flag,
// a usage mistake answered with the usage line (not the whole help), help
// on --help, each error printed once, and discovery with no file.
func TestRunCommand_Line(t *testing.T) {
	ws := t.TempDir()
	wf := `{"name": "w", "steps": [{"id": "a", "type": "shell", "pause": true, "config": {"command": "echo hi"}}, {"id": "b", "type": "shell", "depends_on": ["a"], "config": {"command": "echo bye"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(ws, "workflow.json"), []byte(wf), 0o644))
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(claBin, append([]string{"run"}, args...)...)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "CLA_SERVER=", "CLA_TOKEN=x")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), errb.String(), code
	}

	t.Run("help", func(t *testing.T) {
		out, _, code := run("--help")
		require.Equal(t, 0, code)
		require.Contains(t, out, "Usage:\n  cla run [<workflow-file>] [flags]")
		require.Contains(t, out, "--paused-exit-code CODE")
		require.Contains(t, out, "workflow.json, workflow.yaml or\nworkflow.yml")
	})
	mistakes := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--frsh"}, "cla: run: unknown flag --frsh"},
		{"unknown single-dash flag", []string{"-frsh"}, "cla: run: unknown flag --frsh"},
		{"bad number", []string{"--parallel", "many"}, "--parallel must be a whole number"},
		{"bad paused code", []string{"--paused-exit-code", "three"}, "--paused-exit-code"},
		{"two files", []string{"a.json", "b.json"}, `unexpected argument "b.json"`},
		{"missing value", []string{"--state-store"}, "--state-store needs a value"},
	}
	for _, tc := range mistakes {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(tc.args...)
			require.Equal(t, 2, code)
			require.Empty(t, out)
			require.Contains(t, errOut, tc.want)
			require.Contains(t, errOut, "Usage: cla run [<workflow-file>] [flags]")
			require.NotContains(t, errOut, "Exit codes:", "a mistake prints the usage line, not the whole help")
			require.Equal(t, 1, strings.Count(errOut, tc.want), "printed once:\n%s", errOut)
		})
	}
	t.Run("bad store", func(t *testing.T) {
		_, errOut, code := run("-state-store", "s3")
		require.Equal(t, 2, code)
		require.Equal(t, "cla run: --state-store must be file, server, gitlab or github, not \"s3\"\n", errOut)
	})
	t.Run("single and double dash, discovery, file store pause exits 3", func(t *testing.T) {
		out, _, code := run("-state-store", "file", "-fresh")
		require.Equal(t, 3, code, out)
		require.Contains(t, out, "paused after a; run cla run again to resume")
		out, _, code = run("--state-store=file")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "b | bye")
	})
	t.Run("paused exit code", func(t *testing.T) {
		out, _, code := run("-fresh", "--paused-exit-code", "0")
		require.Equal(t, 0, code, out)
		out, _, code = run("-fresh", "-state-store", "gitlab", "-paused-exit-code", "3")
		require.Equal(t, 3, code, out)
		require.Contains(t, out, "run the resume job")
	})
	t.Run("all mistakes at once", func(t *testing.T) {
		bad := "name: w\nsteps:\n  - id: a\n    type: shell\n    config: {cmd: x}\n  - id: b\n    type: slack.notify\n    config: {channel: '#x', mesage: hi}\n  - id: c\n    type: shel\n"
		require.NoError(t, os.WriteFile(filepath.Join(ws, "bad.yaml"), []byte(bad), 0o644))
		_, errOut, code := run("bad.yaml")
		require.Equal(t, 2, code)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		require.Equal(t, "cla run: 5 mistakes in bad.yaml:", lines[0], errOut)
		require.Equal(t, []string{
			`bad.yaml:5: a shell step needs config.command (a non-empty string)`,
			`bad.yaml:5: unknown config key "cmd" for a shell step (want command, env, dir)`,
			`bad.yaml:8: a slack.notify step needs config.text or config.message (a non-empty string)`,
			`bad.yaml:8: unknown config key "mesage" for a slack.notify step (want text, message, webhook_url, channel, link_url, gitlab_pipeline_url, link_text, button_text)`,
			`bad.yaml:9: step "c" has unknown type "shel" (want shell, slack.notify, webhook or gate)`,
		}, sortedCopy(lines[1:]))
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

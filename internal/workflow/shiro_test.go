package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse_ReportsEveryMistake(t *testing.T) {
	src := `name: 'bad name'
steps:
  - id: a
    type: shell
    retries: -1
    config: {command: x, colour: red}
  - id: b
    type: slack.notify
    depends_on: [zz]
    config: {text: hi, message: hi}
  - id: c
    type: webhook
    pause: maybe
    config: {}
`
	_, err := Parse("w.yaml", []byte(src))
	var all ParseErrors
	require.ErrorAs(t, err, &all)
	var pe *ParseError
	require.ErrorAs(t, err, &pe, "errors.As still finds one mistake")
	got := strings.Split(err.Error(), "\n")
	require.Equal(t, []string{
		`w.yaml:1: name "bad name" must match [A-Za-z0-9][A-Za-z0-9._-]{0,62} (it names the state file)`,
		`w.yaml:5: retries must be a whole number from 0 to 100, not "-1"`,
		`w.yaml:6: unknown config key "colour" for a shell step (want command, env, dir)`,
		`w.yaml:7: step "b" depends on unknown step "zz"`,
		`w.yaml:10: a slack.notify step takes config.text or config.message, not both (they are synonyms)`,
		`w.yaml:13: pause must be true or false, not "maybe"`,
		`w.yaml:14: a webhook step needs config.url (a non-empty string)`,
	}, got)
}

func TestParse_ShiroNotifyKeys(t *testing.T) {
	ok := `{"name": "n", "steps": [{"id": "r", "type": "slack.notify", "pause": true, "config": {
  "webhook_url": "{{env.SLACK_WEBHOOK_URL}}", "channel": "#deployments", "message": "Review",
  "gitlab_pipeline_url": "https://gitlab.example.com/1/-/pipelines/2", "button_text": "Review in GitLab"}}]}`
	w, err := Parse("n.json", []byte(ok))
	require.NoError(t, err)
	require.Equal(t, notice{text: "Review", webhookURL: "{{env.SLACK_WEBHOOK_URL}}", channel: "#deployments",
		linkURL: "https://gitlab.example.com/1/-/pipelines/2", linkText: "Review in GitLab"}, readNotice(w.Step("r").Config))

	require.Equal(t, DefaultButtonText, readNotice(map[string]any{"message": "m", "gitlab_pipeline_url": "u"}).linkText)
	require.Equal(t, "Open", readNotice(map[string]any{"text": "m", "link_url": "u"}).linkText)

	bad := []struct{ name, config, want string }{
		{"both links", `{"text": "t", "link_url": "a", "gitlab_pipeline_url": "b"}`, "config.link_url or config.gitlab_pipeline_url, not both"},
		{"both labels", `{"text": "t", "link_text": "a", "button_text": "b"}`, "config.link_text or config.button_text, not both"},
		{"channel not string", `{"text": "t", "channel": 5}`, "config.channel must be a string"},
		{"no message", `{"channel": "#x"}`, "needs config.text or config.message"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("n.json", []byte(`{"name": "n", "steps": [{"id": "r", "type": "slack.notify", "config": `+tc.config+`}]}`))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSlackMessage_EscapesTextAndCarriesButton(t *testing.T) {
	m := SlackMessage("deploy <main> & @here <!channel>", "https://x.example/p", "Review in GitLab")
	require.Equal(t, "deploy &lt;main&gt; &amp; @here &lt;!channel&gt;", m["text"])
	require.Len(t, m["blocks"], 2)
}

func TestDiscover(t *testing.T) {
	touch := func(t *testing.T, dir string, names ...string) {
		for _, n := range names {
			p := filepath.Join(dir, n)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte("{}"), 0o644))
		}
	}
	cases := []struct {
		name    string
		files   []string
		want    string
		wantErr string
	}{
		{"json in cwd", []string{"workflow.json"}, "workflow.json", ""},
		{"yml in cwd", []string{"workflow.yml"}, "workflow.yml", ""},
		{"cwd before .cla", []string{"workflow.yaml", ".cla/workflow.json"}, "workflow.yaml", ""},
		{"under .cla", []string{".cla/workflow.yaml"}, ".cla/workflow.yaml", ""},
		{"several in cwd", []string{"workflow.json", "workflow.yaml"}, "", "several workflow files in"},
		{"several under .cla", []string{".cla/workflow.json", ".cla/workflow.yml"}, "", ".cla/workflow.json, .cla/workflow.yml"},
		{"none", []string{"release.yaml"}, "", "looked for workflow.json, workflow.yaml, workflow.yml, .cla/workflow.json, .cla/workflow.yaml, .cla/workflow.yml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			touch(t, dir, tc.files...)
			got, err := Discover(dir)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, filepath.Join(dir, tc.want), got)
		})
	}
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "workflow.json"), 0o755))
	_, err := Discover(dir)
	require.ErrorContains(t, err, "none found", "a directory named workflow.json is not a workflow")
}

func TestInvocation_StoresAndPauseCodes(t *testing.T) {
	three := 3
	cases := []struct {
		inv      Invocation
		dir      string
		exitCode int
	}{
		{Invocation{}, DefaultStateDir, ExitPaused},
		{Invocation{StateStore: StoreGitLab, Env: map[string]string{"CI_PROJECT_DIR": "/builds/p"}}, "/builds/p/.cla/state", ExitDone},
		{Invocation{StateStore: StoreGitHub, Env: map[string]string{"GITHUB_WORKSPACE": "/ws"}}, "/ws/.cla/state", ExitDone},
		{Invocation{StateStore: StoreGitHub, PausedExitCode: &three}, DefaultStateDir, ExitPaused},
		{Invocation{StateStore: StoreGitLab, Dir: "/repo"}, "/repo/.cla/state", ExitDone},
		{Invocation{StateStore: StoreGitLab, StateDir: "/tmp/s", Env: map[string]string{"CI_PROJECT_DIR": "/b"}}, "/tmp/s", ExitDone},
	}
	for _, tc := range cases {
		require.NoError(t, tc.inv.Validate())
		require.Equal(t, tc.dir, tc.inv.stateDir())
		require.Equal(t, tc.exitCode, tc.inv.pausedCode())
	}
}

func TestExecute_GitLabPauseExitsZero(t *testing.T) {
	f := newFixture(t, "name: g\nsteps:\n  - {id: a, type: shell, pause: true, config: {command: 'echo a'}}\n  - {id: b, type: shell, depends_on: [a], config: {command: 'echo b'}}\n")
	code, out, errOut := f.run("--state-store", "gitlab", "--fresh")
	require.Equal(t, ExitDone, code, errOut)
	require.Contains(t, out, "paused after a; run the resume job")
	require.FileExists(t, filepath.Join(f.state, "g.json"))
	code, out, _ = f.run("--state-store", "gitlab")
	require.Equal(t, ExitDone, code)
	require.Contains(t, out, "b | b")
	require.NotContains(t, out, "a | a")
}

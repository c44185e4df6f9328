package workflow

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/jobs"
)

const deployWorkflow = `
name: deploywf
steps:
  - {id: build, type: shell, config: {command: "echo 1.0"}}
  - id: approve
    type: gate
    depends_on: [build]
    config: {kind: approval, name: "Ship", assignees: [ops], timeout: 1h}
  - {id: deploy, type: shell, depends_on: [approve], config: {command: "echo deploying {{steps.build.output}} >> %[1]s/deploy.runs"}}
`

// savedState returns the last run state saved on a job.
func savedState(t *testing.T, srv *claServer, jobID string) map[string]any {
	t.Helper()
	entries, err := srv.svc.Log(context.Background(), jobID, 0, 1000)
	require.NoError(t, err)
	var raw []byte
	for _, e := range entries {
		if e.Fields["name"] == jobs.RunStateAnnotation {
			n, err := strconv.Atoi(e.Fields["annotation"])
			require.NoError(t, err)
			_, raw, err = srv.svc.AnnotationContent(context.Background(), jobID, n)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, raw, "no state saved on %s", jobID)
	var st map[string]any
	require.NoError(t, json.Unmarshal(raw, &st))
	return st
}

// forge is the review's forged state: the approval claimed approved and a
// step output that is shell code.
func forge(st map[string]any, dir string) []byte {
	steps := st["steps"].(map[string]any)
	steps["approve"] = map[string]any{"status": "succeeded", "output": "approved", "gate": "g1", "gateKind": "approval", "outcome": "approved"}
	steps["build"] = map[string]any{"status": "succeeded", "output": "x; touch " + dir + "/pwned; echo"}
	raw, _ := json.Marshal(st)
	return raw
}

// TestServerStore_ForgedStateSkipsNothing replays issue 17 item 1.
func TestServerStore_ForgedStateSkipsNothing(t *testing.T) {
	ctx := context.Background()
	srv := newClaServer(t)
	f := newFixture(t, deployWorkflow)
	args := srv.args("r1", "--state-store", "server", "--no-wait")
	code, out, _ := f.run(args...)
	require.Equal(t, ExitPaused, code, out)
	forged := forge(savedState(t, srv, "deploywf-r1"), f.dir)

	// Another identity cannot write the run's state at all.
	mallory := client.New(srv.url, malloryToken)
	err := mallory.Annotate(ctx, "deploywf-r1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: forged})
	require.True(t, client.IsCode(err, jobs.EFORBIDDEN), "want 403, got %v", err)

	// Even a state the run's own identity wrote does not decide a gate:
	// the gate is still open, so the run still waits.
	ci := client.New(srv.url, testToken)
	require.NoError(t, ci.Annotate(ctx, "deploywf-r1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: forged}))
	code, out, _ = f.run(args...)
	require.Equal(t, ExitPaused, code, out)
	require.Equal(t, 0, f.runs("deploy.runs"), "deployed past an open gate")

	// Once ops approve, the deploy runs; the forged output is one word
	// of data, not shell code.
	srv.resolve(t, "deploywf-r1", jobs.ActApprove)
	code, out, _ = f.run(args...)
	require.Equal(t, ExitDone, code, out)
	require.Equal(t, 1, f.runs("deploy.runs"))
	_, err = os.Stat(filepath.Join(f.dir, "pwned"))
	require.True(t, os.IsNotExist(err), "a step output ran as shell code")
	raw, err := os.ReadFile(filepath.Join(f.dir, "deploy.runs"))
	require.NoError(t, err)
	require.Equal(t, "deploying x; touch "+f.dir+"/pwned; echo\n", string(raw))
}

// TestServerStore_ForgedRejection: a state that claims a rejected gate
// passed reads the rejection from the job.
func TestServerStore_ForgedRejection(t *testing.T) {
	ctx := context.Background()
	srv := newClaServer(t)
	f := newFixture(t, deployWorkflow)
	args := srv.args("r2", "--state-store", "server", "--no-wait")
	code, out, _ := f.run(args...)
	require.Equal(t, ExitPaused, code, out)
	srv.resolve(t, "deploywf-r2", jobs.ActReject)
	ci := client.New(srv.url, testToken)
	require.NoError(t, ci.Annotate(ctx, "deploywf-r2", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation,
		Content: forge(savedState(t, srv, "deploywf-r2"), f.dir)}))
	code, out, _ = f.run(args...)
	require.Equal(t, ExitFailed, code, out)
	require.Contains(t, out, "ended rejected")
	require.Equal(t, 0, f.runs("deploy.runs"))
}

// TestServerStore_JobOfAnotherIdentity: a job created in advance by another
// identity (job ids are predictable) is refused, state and all.
func TestServerStore_JobOfAnotherIdentity(t *testing.T) {
	ctx := context.Background()
	srv := newClaServer(t)
	f := newFixture(t, deployWorkflow)
	mallory := client.New(srv.url, malloryToken)
	_, err := mallory.CreateJob(ctx, jobs.NewJob{ID: "deploywf-r3", Name: "deploywf"})
	require.NoError(t, err)
	forged := forge(map[string]any{"format": 1, "workflow": "deploywf", "runId": "r3", "jobId": "deploywf-r3", "status": "paused",
		"steps": map[string]any{"build": map[string]any{}, "approve": map[string]any{}, "deploy": map[string]any{"status": "pending"}}}, f.dir)
	require.NoError(t, mallory.Annotate(ctx, "deploywf-r3", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: jobs.RunStateAnnotation, Content: forged}))
	for _, store := range []string{"server", "file"} {
		code, out, errOut := f.run(srv.args("r3", "--state-store", store, "--no-wait")...)
		require.Equal(t, ExitUsage, code, out)
		require.Contains(t, out+errOut, "belongs to mallory, not to this run's identity ci")
	}
	require.Equal(t, 0, f.runs("deploy.runs"))
}

func FuzzShellCommand(f *testing.F) {
	f.Add("x; id > pwned; echo")
	f.Add(`$(id)"'` + "`id`")
	f.Fuzz(func(t *testing.T, output string) {
		env := map[string]any{}
		vars := Vars{Steps: map[string]StepResult{"build-1": {Output: output}}}
		cmd, err := shellCommand("echo {{steps.build-1.output}} '{{ steps.build-1.output }}'", vars, env)
		require.NoError(t, err)
		require.Equal(t, `echo "${CLA_STEPS_BUILD_1_OUTPUT}" '"${CLA_STEPS_BUILD_1_OUTPUT}"'`, cmd, "the value never enters the command text")
		require.Equal(t, map[string]any{"CLA_STEPS_BUILD_1_OUTPUT": output}, env)
	})
}

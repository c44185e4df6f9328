package workflow

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

const (
	testToken    = "ci-token"
	malloryToken = "mallory-token" // another identity of the same server
)

// claServer is a real cla API (bbolt store, service, timers) on 127.0.0.1.
type claServer struct {
	url string
	svc *jobs.Service
}

func newClaServer(t *testing.T) *claServer {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	timers := make(chan struct{})
	go func() { defer close(timers); _ = svc.RunTimers(ctx, nil) }()
	keys := web.NewKeyring([]web.Credential{{Digest: web.HashToken(testToken), Identity: jobs.Identity{Name: "ci"}},
		{Digest: web.HashToken(malloryToken), Identity: jobs.Identity{Name: "mallory"}}})
	srv := httptest.NewServer(web.New(web.Config{Service: svc, Keyring: keys}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-timers
		require.NoError(t, db.Close())
	})
	return &claServer{url: srv.URL, svc: svc}
}

// args are the flags that point a run at this server.
func (s *claServer) args(runID string, extra ...string) []string {
	return append([]string{"--server", s.url, "--token", testToken, "--run-id", runID}, extra...)
}

// openGate waits until the job has an open gate and returns it.
func (s *claServer) openGate(t *testing.T, jobID string) *jobs.Gate {
	t.Helper()
	var g *jobs.Gate
	waitFor(t, func() bool {
		job, err := s.svc.GetJob(context.Background(), jobID)
		if err == nil {
			g = job.OpenGate()
		}
		return g != nil
	})
	return g
}

func (s *claServer) resolve(t *testing.T, jobID string, a jobs.Action) {
	t.Helper()
	_, _, err := s.svc.Resolve(context.Background(), jobs.Identity{Name: "ops"}, jobs.ViaAPI, jobID, jobs.Resolution{Action: a, Message: "from the test"})
	require.NoError(t, err)
}

// runAsync runs Main in the background and returns its exit code channel.
func (f *fixture) runAsync(extra ...string) <-chan int {
	done := make(chan int, 1)
	go func() {
		code, _, _ := f.run(extra...)
		done <- code
	}()
	return done
}

const trapWorkflow = `
name: trapwf
steps:
  - id: flaky
    type: shell
    trap: true
    config: {command: "echo run >> %[1]s/flaky.runs; echo trying; [ -f %[1]s/fixed ]"}
  - {id: after, type: shell, depends_on: [flaky], config: {command: "echo run >> %[1]s/after.runs"}}
`

func TestRun_TrapDecisions(t *testing.T) {
	cases := []struct {
		decision           jobs.Action
		wantCode           int
		wantFlaky, wantAft int
		wantJob            jobs.Status
	}{
		{jobs.ActRetry, ExitDone, 2, 1, jobs.StatusSuccessful},
		{jobs.ActSkip, ExitDone, 1, 1, jobs.StatusSuccessful},
		{jobs.ActAbort, ExitFailed, 1, 0, jobs.StatusFailure},
	}
	for _, tc := range cases {
		t.Run(string(tc.decision), func(t *testing.T) {
			srv := newClaServer(t)
			f := newFixture(t, trapWorkflow)
			done := f.runAsync(srv.args("r1")...)
			g := srv.openGate(t, "trapwf-r1")
			require.Equal(t, jobs.KindTrap, g.Kind)
			require.Contains(t, g.Description, "Step flaky of workflow trapwf failed: exit status 1")
			require.Contains(t, g.Description, "trying")
			if tc.decision == jobs.ActRetry {
				require.NoError(t, writeFile(filepath.Join(f.dir, "fixed")))
			}
			srv.resolve(t, "trapwf-r1", tc.decision)
			require.Equal(t, tc.wantCode, recv(t, done))
			require.Equal(t, tc.wantFlaky, f.runs("flaky.runs"))
			require.Equal(t, tc.wantAft, f.runs("after.runs"))
			job, err := srv.svc.GetJob(context.Background(), "trapwf-r1")
			require.NoError(t, err)
			require.Equal(t, tc.wantJob, job.Status)
		})
	}
}

// An aborted run ended its job; fixing the cause and running again resumes
// the failed step as a new job, without re-running what succeeded.
func TestRun_ResumeAfterAbort(t *testing.T) {
	srv := newClaServer(t)
	f := newFixture(t, strings.Replace(trapWorkflow, "name: trapwf", "name: trapwf\n# first step\n", 1))
	done := f.runAsync(srv.args("r9")...)
	srv.openGate(t, "trapwf-r9")
	srv.resolve(t, "trapwf-r9", jobs.ActAbort)
	require.Equal(t, ExitFailed, recv(t, done))
	require.NoError(t, writeFile(filepath.Join(f.dir, "fixed")))
	code, out, _ := f.run(srv.args("r9")...)
	require.Equal(t, ExitDone, code, out)
	require.Contains(t, out, "job trapwf-r9 is failure; this attempt continues as job trapwf-r9-")
	require.Equal(t, []int{2, 1}, []int{f.runs("flaky.runs"), f.runs("after.runs")})
}

func TestRun_TrapNoWaitAndTimeout(t *testing.T) {
	t.Run("no-wait exits 3 and the next run follows the decision", func(t *testing.T) {
		srv := newClaServer(t)
		f := newFixture(t, trapWorkflow)
		code, out, _ := f.run(srv.args("r2", "--no-wait")...)
		require.Equal(t, ExitPaused, code, out)
		require.Contains(t, out, "waits for gate g1 on job trapwf-r2")
		code, _, _ = f.run(srv.args("r2", "--no-wait")...)
		require.Equal(t, ExitPaused, code, "still undecided")
		require.Equal(t, 1, f.runs("flaky.runs"))
		require.NoError(t, writeFile(filepath.Join(f.dir, "fixed")))
		srv.resolve(t, "trapwf-r2", jobs.ActRetry)
		code, out, _ = f.run(srv.args("r2", "--no-wait")...)
		require.Equal(t, ExitDone, code, out)
		require.Equal(t, []int{2, 1}, []int{f.runs("flaky.runs"), f.runs("after.runs")})
	})
	t.Run("timeout applies the default", func(t *testing.T) {
		srv := newClaServer(t)
		f := newFixture(t, strings.Replace(trapWorkflow, "trap: true", "trap: {timeout: 1s, default: skip}", 1))
		code, out, _ := f.run(srv.args("r3")...)
		require.Equal(t, ExitDone, code, out)
		require.Contains(t, out, "trap of step flaky: skip (gate g1 ended timed_out")
		require.Equal(t, []int{1, 1}, []int{f.runs("flaky.runs"), f.runs("after.runs")})
		job, err := srv.svc.GetJob(context.Background(), "trapwf-r3")
		require.NoError(t, err)
		require.Equal(t, jobs.StatusSuccessful, job.Status)
	})
}

const gateWorkflow = `
name: gatewf
steps:
  - {id: build, type: shell, config: {command: "echo 1.0"}}
  - id: approve
    type: gate
    depends_on: [build]
    config: {kind: approval, name: "Ship {{steps.build.output}}", assignees: [ops], timeout: 1h}
  - {id: ship, type: shell, depends_on: [approve], config: {command: "echo {{steps.approve.output}} >> %[1]s/ship.runs"}}
`

func TestRun_GateStep(t *testing.T) {
	t.Run("approved while waiting", func(t *testing.T) {
		srv := newClaServer(t)
		f := newFixture(t, gateWorkflow)
		done := f.runAsync(srv.args("g1")...)
		g := srv.openGate(t, "gatewf-g1")
		require.Equal(t, "Ship 1.0", g.Name)
		require.Equal(t, []string{"ops"}, g.Assignees)
		srv.resolve(t, "gatewf-g1", jobs.ActApprove)
		require.Equal(t, ExitDone, recv(t, done))
		require.Equal(t, 1, f.runs("ship.runs"))
	})
	t.Run("no-wait, then approved", func(t *testing.T) {
		srv := newClaServer(t)
		f := newFixture(t, gateWorkflow)
		code, _, _ := f.run(srv.args("g2", "--no-wait")...)
		require.Equal(t, ExitPaused, code)
		srv.resolve(t, "gatewf-g2", jobs.ActApprove)
		code, _, _ = f.run(srv.args("g2", "--no-wait")...)
		require.Equal(t, ExitDone, code)
		require.Equal(t, 1, f.runs("ship.runs"))
	})
	t.Run("rejected fails the run", func(t *testing.T) {
		srv := newClaServer(t)
		f := newFixture(t, gateWorkflow)
		code, _, _ := f.run(srv.args("g3", "--no-wait")...)
		require.Equal(t, ExitPaused, code)
		srv.resolve(t, "gatewf-g3", jobs.ActReject)
		code, out, _ := f.run(srv.args("g3", "--no-wait")...)
		require.Equal(t, ExitFailed, code)
		require.Contains(t, out, "gate g1 (Ship 1.0) ended rejected by ops via api: from the test")
		require.Equal(t, 0, f.runs("ship.runs"))
	})
}

func TestServerStore_PauseResumeElsewhere(t *testing.T) {
	srv := newClaServer(t)
	wf := `
name: remote
steps:
  - {id: a, type: shell, config: {command: "echo run >> %[1]s/a.runs; echo built"}}
  - {id: note, type: slack.notify, depends_on: [a], pause: true, config: {text: "built {{steps.a.output}}"}}
  - {id: b, type: shell, depends_on: [note], config: {command: "echo run >> %[1]s/b.runs"}}
`
	f := newFixture(t, wf)
	code, out, _ := f.run(srv.args("77", "--state-store", "server")...)
	require.Equal(t, ExitPaused, code, out)
	f.state = filepath.Join(f.dir, "elsewhere") // a resume job on another machine: no local state
	code, out, _ = f.run(srv.args("77", "--state-store", "server")...)
	require.Equal(t, ExitDone, code, out)
	require.Equal(t, []int{1, 1}, []int{f.runs("a.runs"), f.runs("b.runs")})

	entries, err := srv.svc.Log(context.Background(), "remote-77", 0, 1000)
	require.NoError(t, err)
	var texts []string
	for _, e := range entries {
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "built built")
	require.Contains(t, all, "step a started")
	require.Contains(t, all, "step b succeeded")
	job, err := srv.svc.GetJob(context.Background(), "remote-77")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusSuccessful, job.Status)
}

// A crash after opening a gate but before saving leaves the gate open on
// the job; the next run adopts it instead of failing on the conflict. A
// different open gate makes the step wait (exit 3) instead.
func TestRun_GateAdoptedOrBlocked(t *testing.T) {
	ctx := context.Background()
	ci := jobs.Identity{Name: "ci"}
	t.Run("adopted", func(t *testing.T) {
		srv := newClaServer(t)
		_, err := srv.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "gatewf-a1", Name: "gatewf"})
		require.NoError(t, err)
		_, _, err = srv.svc.OpenGate(ctx, ci, jobs.ViaAPI, "gatewf-a1", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship 1.0"})
		require.NoError(t, err)
		f := newFixture(t, gateWorkflow)
		code, out, _ := f.run(srv.args("a1", "--no-wait")...)
		require.Equal(t, ExitPaused, code, out)
		require.Contains(t, out, "opened approval gate g1 (Ship 1.0)")
		srv.resolve(t, "gatewf-a1", jobs.ActApprove)
		code, _, _ = f.run(srv.args("a1", "--no-wait")...)
		require.Equal(t, ExitDone, code)
	})
	t.Run("blocked", func(t *testing.T) {
		srv := newClaServer(t)
		_, err := srv.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "gatewf-b1", Name: "gatewf"})
		require.NoError(t, err)
		_, _, err = srv.svc.OpenGate(ctx, ci, jobs.ViaAPI, "gatewf-b1", jobs.GateConfig{Kind: jobs.KindAction, Name: "Something else"})
		require.NoError(t, err)
		f := newFixture(t, gateWorkflow)
		code, out, _ := f.run(srv.args("b1", "--no-wait")...)
		require.Equal(t, ExitPaused, code, out)
		require.Contains(t, out, "another gate of the job is open")
		_, _, err = srv.svc.Resolve(ctx, jobs.Identity{Name: "ops"}, jobs.ViaAPI, "gatewf-b1", jobs.Resolution{Action: jobs.ActComplete})
		require.NoError(t, err)
		code, _, _ = f.run(srv.args("b1", "--no-wait")...)
		require.Equal(t, ExitPaused, code, "now its own gate is open")
		srv.resolve(t, "gatewf-b1", jobs.ActApprove)
		code, _, _ = f.run(srv.args("b1", "--no-wait")...)
		require.Equal(t, ExitDone, code)
		require.Equal(t, 1, f.runs("ship.runs"))
	})
}

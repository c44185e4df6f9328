package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/client"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

func newServer(t *testing.T) (*httptest.Server, *jobs.Service) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	keys := web.NewKeyring([]web.Credential{
		{Digest: web.HashToken("ci"), Identity: jobs.Identity{Name: "ci"}},
		{Digest: web.HashToken("alice"), Identity: jobs.Identity{Name: "alice"}},
	})
	api := web.New(web.Config{Service: svc, Keyring: keys})
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Stop(); srv.Close(); _ = db.Close() })
	return srv, svc
}

func TestClient_Lifecycle(t *testing.T) {
	srv, _ := newServer(t)
	ctx := context.Background()
	ci, alice := client.New(srv.URL, "ci"), client.New(srv.URL+"/", "alice")
	job, err := ci.CreateJob(ctx, jobs.NewJob{ID: "c-1", Name: "client"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), job.Version)

	steps := []struct {
		cfg    jobs.GateConfig
		res    jobs.Resolution
		status jobs.Status
	}{
		{jobs.GateConfig{Kind: jobs.KindAction, Name: "a", RequireEvidence: true},
			jobs.Resolution{Action: jobs.ActComplete, Evidence: &jobs.Evidence{URL: "https://x/1"}}, jobs.StatusInProgress},
		{jobs.GateConfig{Kind: jobs.KindApproval, Name: "b"}, jobs.Resolution{Action: jobs.ActApprove, Message: "ok"}, jobs.StatusInProgress},
		{jobs.GateConfig{Kind: jobs.KindPause, Name: "c"}, jobs.Resolution{Action: jobs.ActResume}, jobs.StatusInProgress},
		{jobs.GateConfig{Kind: jobs.KindTrap, Name: "d"}, jobs.Resolution{Action: jobs.ActSkip}, jobs.StatusInProgress},
		{jobs.GateConfig{Kind: jobs.KindAction, Name: "e", ContinueOnFailure: true}, jobs.Resolution{Action: jobs.ActFail}, jobs.StatusInProgress},
	}
	for _, s := range steps {
		t.Run(string(s.res.Action), func(t *testing.T) {
			g, err := ci.OpenGate(ctx, "c-1", s.cfg)
			require.NoError(t, err)
			require.Equal(t, jobs.GateOpen, g.State)
			j, err := alice.Resolve(ctx, "c-1", s.res)
			require.NoError(t, err)
			require.Equal(t, s.status, j.Status)
			require.Equal(t, jobs.GateClosed, j.Gate(g.ID).State)
		})
	}
	require.NoError(t, alice.Annotate(ctx, "c-1", jobs.NewAnnotation{Kind: "comment", Text: "note"}))
	j, err := ci.Progress(ctx, "c-1", jobs.StatusSuccessful, "done")
	require.NoError(t, err)
	require.Equal(t, jobs.StatusSuccessful, j.Status)
	page, err := ci.ListJobs(ctx, jobs.ListQuery{Status: jobs.StatusSuccessful})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	entries, err := ci.Log(ctx, "c-1", 0)
	require.NoError(t, err)
	require.Greater(t, len(entries), 10)
}

func TestClient_Errors(t *testing.T) {
	srv, _ := newServer(t)
	ctx := context.Background()
	_, err := client.New(srv.URL, "ci").GetJob(ctx, "nope")
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.Status)
	require.Equal(t, "not_found", ae.Code)
	require.True(t, client.IsCode(err, "not_found"))
	require.False(t, client.Temporary(err))

	_, err = client.New(srv.URL, "wrong").GetJob(ctx, "nope")
	require.True(t, client.IsCode(err, "unauthorized"))

	_, err = client.New("http://127.0.0.1:1", "ci").GetJob(ctx, "x")
	require.Error(t, err)
	require.True(t, client.Temporary(err), "connection refused is temporary: %v", err)
	require.True(t, client.Temporary(&client.APIError{Status: 503}))
	require.False(t, client.Temporary(context.Canceled))
	require.False(t, client.Temporary(errors.New("other")))

	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrusted.Close()
	_, err = client.New(untrusted.URL, "ci").GetJob(ctx, "x")
	require.Error(t, err)
	require.False(t, client.Temporary(err), "an untrusted certificate is not temporary: %v", err)
}

func TestClient_WaitAndStream(t *testing.T) {
	srv, svc := newServer(t)
	ctx := context.Background()
	cl := client.New(srv.URL, "ci")
	job, err := cl.CreateJob(ctx, jobs.NewJob{ID: "w-1", Name: "wait"})
	require.NoError(t, err)

	j, err := cl.WaitJob(ctx, "w-1", job.Version, 10*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, job.Version, j.Version, "times out unchanged")

	got := make(chan jobs.LogEntry, 8)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = cl.StreamLog(sctx, "w-1", 0, func(e jobs.LogEntry) error {
			select {
			case got <- e:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		})
	}()
	require.Equal(t, uint64(1), receive(t, got).Seq)

	type result struct {
		job *jobs.Job
		err error
	}
	done := make(chan result, 1)
	go func() {
		j, err := cl.Await(ctx, "w-1", func(j *jobs.Job) bool { return j.Status.Terminal() }, nil, nil)
		done <- result{j, err}
	}()
	_, err = svc.Progress(ctx, jobs.Identity{Name: "ci"}, jobs.ViaAPI, "w-1", jobs.StatusCancelled, "stop")
	require.NoError(t, err)
	r := receive(t, done)
	require.NoError(t, r.err)
	require.Equal(t, jobs.StatusCancelled, r.job.Status)
	require.Contains(t, receive(t, got).Text, "cancelled")
}

// receive takes one value from ch, failing the test if none comes within
// 60 s (a safety net far above what a loaded machine needs).
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatal("nothing arrived")
		panic("unreachable")
	}
}

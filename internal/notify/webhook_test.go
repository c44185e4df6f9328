package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/webhooksig"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

const webhookSecret = "whsec-test-0123456789"

// openJob is a job with an open action gate, as the outbox hands it over.
func openJob(desc string) (*jobs.Job, jobs.Notification) {
	deadline := time.Now().Add(2 * time.Hour).UTC()
	g := &jobs.Gate{ID: "g1", State: jobs.GateOpen, OpenedAt: time.Now().UTC(), Deadline: &deadline,
		GateConfig: jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap failed disk", Description: desc,
			Assignees: []string{"ops", "alice@example.com"}, Checklist: []string{"pull disk", "insert disk"}}}
	job := &jobs.Job{ID: "qa-1234", Name: "Deploy v3.1.0", Status: jobs.StatusActionRequired, Gates: []*jobs.Gate{g}}
	n := jobs.Notification{ID: "qa-1234/g1/gate_opened//webhook:x", JobID: job.ID, GateID: "g1",
		Event: jobs.NotifyGateOpened, Assignees: g.Assignees}
	return job, n
}

type received struct {
	body   []byte
	header http.Header
	err    error
}

// receiver is a webhook endpoint that verifies with the README's code and
// answers the given statuses in turn (200 once they run out).
func receiver(t *testing.T, statuses ...int) (*httptest.Server, chan received) {
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := VerifyClaWebhook(r, []byte(webhookSecret), 5*time.Minute)
		got <- received{body: body, header: r.Header.Clone(), err: err}
		status := http.StatusOK
		if len(statuses) > 0 {
			status, statuses = statuses[0], statuses[1:]
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func newWebhook(t *testing.T) (*notify.Webhook, *notify.Callbacks) {
	cb, err := notify.NewCallbacks(webhookSecret, nil)
	require.NoError(t, err)
	wh, err := notify.NewWebhook(webhookSecret, "https://cla.example.com/", cb, nil)
	require.NoError(t, err)
	return wh, cb
}

func TestWebhook_Notify(t *testing.T) {
	srv, got := receiver(t)
	wh, cb := newWebhook(t)
	job, n := openJob("Replace the disk in node-7")
	n.Channel = jobs.NotifyChannel{Type: "webhook", URL: srv.URL + "/hook?token=hidden"}
	require.NoError(t, wh.Notify(context.Background(), n, job))

	r := recv(t, got)
	require.NoError(t, r.err, "the independent verifier accepts the signature")
	require.Equal(t, n.ID, r.header.Get("X-Cla-Notification-Id"))
	require.Equal(t, "gate_opened", r.header.Get("X-Cla-Event"))
	var p struct {
		Event, CallbackURL, NotificationID string
		Job                                jobs.Job
		Gate                               jobs.Gate
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Equal(t, "gate_opened", p.Event)
	require.Equal(t, n.ID, p.NotificationID)
	require.Equal(t, "qa-1234", p.Job.ID)
	require.Equal(t, "Swap failed disk", p.Gate.Name)
	prefix := "https://cla.example.com/v1/callbacks/"
	require.True(t, strings.HasPrefix(p.CallbackURL, prefix), p.CallbackURL)
	jobID, gateID, err := cb.Verify(strings.TrimPrefix(p.CallbackURL, prefix))
	require.NoError(t, err)
	require.Equal(t, []string{"qa-1234", "g1"}, []string{jobID, gateID})
}

func TestWebhook_NotifyFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter time.Duration // 0: a plain error
	}{
		{"server error", http.StatusInternalServerError, 0},
		{"client error", http.StatusBadRequest, 0},
		{"redirect is not success", http.StatusFound, 0},
		{"rate limited", http.StatusTooManyRequests, 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := receiver(t, tc.status)
			wh, _ := newWebhook(t)
			job, n := openJob("x")
			n.Channel = jobs.NotifyChannel{Type: "webhook", URL: srv.URL + "/secret-path?key=hunter2"}
			err := wh.Notify(context.Background(), n, job)
			require.Error(t, err)
			recv(t, got)
			require.NotContains(t, err.Error(), "hunter2", "webhook URLs may hold credentials")
			require.NotContains(t, err.Error(), "secret-path")
			var ra *jobs.RetryAfterError
			require.Equal(t, tc.retryAfter > 0, asRetryAfter(err, &ra))
			if ra != nil {
				require.Equal(t, tc.retryAfter, ra.After)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		srv, _ := receiver(t)
		url := srv.URL + "/p?key=hunter2"
		srv.Close()
		wh, _ := newWebhook(t)
		job, n := openJob("x")
		n.Channel = jobs.NotifyChannel{Type: "webhook", URL: url}
		err := wh.Notify(context.Background(), n, job)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
	})
}

func TestWebhook_NotifySkips(t *testing.T) {
	srv, got := receiver(t)
	wh, _ := newWebhook(t)
	for _, tc := range []struct {
		name  string
		event string
		close bool
	}{
		{"resolved event", jobs.NotifyGateResolved, true},
		{"reminder for a closed gate", jobs.NotifyReminder, true},
		{"unknown gate", jobs.NotifyGateOpened, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, n := openJob("x")
			n.Event, n.Channel = tc.event, jobs.NotifyChannel{Type: "webhook", URL: srv.URL}
			if tc.close {
				job.Gates[0].State = jobs.GateClosed
			} else {
				n.GateID = "g9"
			}
			require.NoError(t, wh.Notify(context.Background(), n, job))
		})
	}
	require.Empty(t, got, "nothing was posted")
}

// TestVerifyClaWebhook checks the README's receiver against the signer.
func TestVerifyClaWebhook(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	ts := time.Now().Unix()
	req.Header.Set("X-Cla-Timestamp", itoa(ts))
	req.Header.Set("X-Cla-Signature", webhooksig.Sign([]byte("key"), itoa(ts), []byte("{}")))
	_, err := VerifyClaWebhook(req, []byte("key"), time.Minute)
	require.NoError(t, err)

	stale := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	old := itoa(ts - 3600)
	stale.Header.Set("X-Cla-Timestamp", old)
	stale.Header.Set("X-Cla-Signature", webhooksig.Sign([]byte("key"), old, []byte("{}")))
	_, err = VerifyClaWebhook(stale, []byte("key"), time.Minute)
	require.Error(t, err, "the README verifier refuses replays")
}

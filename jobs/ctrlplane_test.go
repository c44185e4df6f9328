package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// rfcConfig reads one of the ctrlplane RFC's agent configs, kept verbatim
// in examples/ctrlplane, as a gate config.
func rfcConfig(t *testing.T, name string, edit ...func(string) string) *jobs.GateConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "ctrlplane", name))
	require.NoError(t, err)
	text := string(data)
	for _, e := range edit {
		text = e(text)
	}
	var cfg jobs.GateConfig
	require.NoError(t, json.Unmarshal([]byte(text), &cfg))
	return &cfg
}

func rfcContext(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "ctrlplane", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func bootWith(t *testing.T, opts jobs.Options) *timerServer {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	s := &timerServer{db: db, svc: jobs.NewService(db, jobs.NewBroker(), opts), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_ = s.svc.RunTimers(ctx, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { s.shutdown(t) })
	quiesce()
	return s
}

// The RFC's reminder table: maxReminders "Default 0 (no reminders)".
func TestCtrlplane_RemindersDefaultToNone(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(string) string
		want int
	}{
		{"maxReminders 3, as the RFC writes it", func(s string) string { return s }, 3},
		{"maxReminders omitted", func(s string) string {
			return strings.Replace(s, `,
    "maxReminders": 3`, "", 1)
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := bootWith(t, jobs.Options{})
				cfg := rfcConfig(t, "dns-update.json", tc.edit)
				if tc.want == 0 {
					require.Zero(t, cfg.Reminder.MaxReminders, "the edit removed the key")
				}
				_, err := s.svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: "dns-1", JobAgentConfig: cfg})
				require.NoError(t, err)
				sleepUntil(time.Now().Add(10 * time.Hour))
				require.Len(t, s.ofEvent(t, "dns-1", jobs.NotifyReminder), tc.want)
				require.Len(t, s.audit(t, "dns-1", "reminder "), tc.want)
				require.Equal(t, jobs.StatusActionRequired, s.gateJob(t, "dns-1").Status)
			})
		})
	}
}

// The RFC's timeout: the job fails with "manual action timed out after
// PT24H", and the metadata says the timeout ended it.
func TestCtrlplane_TimeoutMessageAndMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := bootWith(t, jobs.Options{})
		opened := time.Now()
		_, err := s.svc.CreateJob(context.Background(), ci, jobs.ViaAPI, jobs.NewJob{ID: "disk-1",
			JobAgentConfig: rfcConfig(t, "disk-swap.json"), Context: rfcContext(t, "context.disk-swap.json")})
		require.NoError(t, err)
		sleepUntil(opened.Add(24*time.Hour - time.Second))
		require.Equal(t, jobs.StatusActionRequired, s.gateJob(t, "disk-1").Status)
		sleepUntil(opened.Add(24 * time.Hour))
		quiesce()
		j := s.gateJob(t, "disk-1")
		require.Equal(t, jobs.StatusFailure, j.Status)
		require.Equal(t, "manual action timed out after PT24H", j.Message)
		require.Equal(t, "timeout", j.Metadata[jobs.MetaCompletedVia])
		require.Equal(t, opened.Add(24*time.Hour).UTC().Format(time.RFC3339), j.Metadata[jobs.MetaCompletedAt])
		require.Equal(t, "Swap failed disk", j.Metadata[jobs.MetaName])
	})
}

// A config without channels goes to the configured defaults (the RFC's
// "workspace notification defaults"); one with channels does not.
func TestCtrlplane_DefaultChannels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defaults := []jobs.NotifyChannel{{Type: "email", ChannelID: "ops@example.com"}, {Type: "slack", ChannelID: "C0DEFAULT"}}
		s := bootWith(t, jobs.Options{DefaultChannels: defaults})
		ctx := context.Background()
		compliance := &jobs.GateConfig{Type: "manual-action", Name: "Compliance review", Assignees: []string{"compliance-team"}}
		_, err := s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "cr-1", JobAgentConfig: compliance})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"email:ops@example.com", "slack:C0DEFAULT"}, targets(s.ofEvent(t, "cr-1", jobs.NotifyGateOpened)))

		_, err = s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "disk-2",
			JobAgentConfig: rfcConfig(t, "disk-swap.json"), Context: rfcContext(t, "context.disk-swap.json")})
		require.NoError(t, err)
		require.Equal(t, []string{"slack:C04XXXXXX"}, targets(s.ofEvent(t, "disk-2", jobs.NotifyGateOpened)))
	})
}

func targets(ns []jobs.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n.Channel.Type) + ":" + n.Channel.Target()
	}
	return out
}

func (s *timerServer) gateJob(t *testing.T, id string) *jobs.Job {
	t.Helper()
	j, err := s.svc.GetJob(context.Background(), id)
	require.NoError(t, err)
	return j
}

// channelId addresses every channel type; to and url stay synonyms.
func TestNotifyChannel_Target(t *testing.T) {
	for _, tc := range []struct {
		ch   jobs.NotifyChannel
		want string
	}{
		{jobs.NotifyChannel{Type: "slack", ChannelID: "C04XXXXXX"}, "C04XXXXXX"},
		{jobs.NotifyChannel{Type: "email", ChannelID: "account-team@example.com"}, "account-team@example.com"},
		{jobs.NotifyChannel{Type: "email", To: "ops@example.com"}, "ops@example.com"},
		{jobs.NotifyChannel{Type: "webhook", ChannelID: "https://hooks.example/x"}, "https://hooks.example/x"},
		{jobs.NotifyChannel{Type: "webhook", URL: "https://hooks.example/y"}, "https://hooks.example/y"},
	} {
		require.Equal(t, tc.want, tc.ch.Target(), "%+v", tc.ch)
		cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Channels: []jobs.NotifyChannel{tc.ch}}
		require.NoError(t, cfg.Validate())
	}
	cfg := jobs.GateConfig{Kind: jobs.KindAction, Name: "x", Channels: []jobs.NotifyChannel{{Type: "email"}}}
	require.ErrorContains(t, cfg.Validate(), "channels[0] (email) needs channelId (or its synonym to)")
}

func TestGateConfig_Type(t *testing.T) {
	for _, tc := range []struct {
		cfg  jobs.GateConfig
		kind jobs.GateKind
		err  string
	}{
		{jobs.GateConfig{Type: "manual-action", Name: "x"}, jobs.KindAction, ""},
		{jobs.GateConfig{Type: "manual-action", Kind: jobs.KindAction, Name: "x"}, jobs.KindAction, ""},
		{jobs.GateConfig{Type: "approval", Name: "x"}, jobs.KindApproval, ""},
		{jobs.GateConfig{Type: "argo-cd", Name: "x"}, "", `unknown type "argo-cd": cla accepts manual-action, action, approval, pause or trap`},
		{jobs.GateConfig{Type: "manual-action", Kind: jobs.KindPause, Name: "x"}, "", `type "manual-action" means kind action`},
	} {
		cfg := tc.cfg
		err := cfg.Validate()
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.kind, cfg.Kind)
	}
}

// {[ ]} templates: name and description over the context plus job; a
// missing key is refused naming it.
func TestRender(t *testing.T) {
	j := &jobs.Job{ID: "qa-1", Name: "Deploy", Context: map[string]any{
		"resource": map[string]any{"name": "node-7", "metadata": map[string]any{"rack": "7"}},
		"release":  map[string]any{"version": map[string]any{"tag": "v1.4.2"}},
	}}
	for _, tc := range []struct {
		text, want, err string
	}{
		{"Verify edge device {[.resource.name]}", "Verify edge device node-7", ""},
		{"{[.job.id]} rack {[.resource.metadata.rack]} v{[.release.version.tag]}", "qa-1 rack 7 vv1.4.2", ""},
		{"{[.deployment.slug]}", "", `missing key "deployment" in {[.deployment.slug]}`},
		{"{[.resource.metadata.slot]}", "", `missing key "slot" in {[.resource.metadata.slot]}`},
		{"{[ .x", "", "name template:"},
		{"no template {{.x}}", "no template {{.x}}", ""},
	} {
		got, err := jobs.Render("name", tc.text, j)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.text)
			require.Equal(t, jobs.EINVALID, jobs.ErrorCode(err))
			continue
		}
		require.NoError(t, err, tc.text)
		require.Equal(t, tc.want, got)
	}
	huge := &jobs.Job{ID: "qa-2", Context: map[string]any{"x": strings.Repeat("a", 1000)}}
	_, err := jobs.Render("description", strings.Repeat("{[.x]}", 100), huge)
	require.ErrorContains(t, err, "output exceeds the size limit")
}

// A freeze survives a restart and ends by itself at until.
func TestFreeze_RestartAndEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "cla.db")
		s := bootTimers(t, path)
		admin := jobs.Identity{Name: "root", Admin: true}
		until := time.Now().Add(2 * time.Hour)
		_, err := s.svc.CreateFreeze(ctx, ci, jobs.NewFreeze{Reason: "x", Until: &until})
		require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
		f, err := s.svc.CreateFreeze(ctx, admin, jobs.NewFreeze{Reason: "datacenter move", Until: &until, Environments: []string{"production"}})
		require.NoError(t, err)
		s.shutdown(t)

		s = bootTimers(t, path)
		prod := map[string]any{"environment": map[string]any{"name": "production"}}
		_, err = s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "p-1", Name: "deploy", Context: prod})
		require.Equal(t, jobs.EFROZEN, jobs.ErrorCode(err), "the freeze survived the restart")
		require.ErrorContains(t, err, "new jobs are refused during deployment freeze "+f.ID)
		fs, err := s.svc.Freezes(ctx)
		require.NoError(t, err)
		require.Len(t, fs, 1)

		sleepUntil(until)
		_, err = s.svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "p-1", Name: "deploy", Context: prod})
		require.NoError(t, err, "the freeze ended by itself")
		fs, err = s.svc.Freezes(ctx)
		require.NoError(t, err)
		require.Empty(t, fs)
		later := time.Now().Add(time.Hour)
		_, err = s.svc.CreateFreeze(ctx, admin, jobs.NewFreeze{Reason: "next", Until: &later})
		require.NoError(t, err)
		all, err := s.db.Freezes(ctx)
		require.NoError(t, err)
		require.Len(t, all, 1, "ended freezes are pruned, so the store does not grow")
	})
}

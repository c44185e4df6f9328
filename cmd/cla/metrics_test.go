package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot"
	"github.com/cla-ops/cla/internal/bot/talkbot"
	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/internal/web/monitor"
	"github.com/cla-ops/cla/jobs"
)

// namesBefore are the metric names /metrics served with the hand-written
// internal/metrics package (read from its New* calls before the move to
// client_golang). Dashboards and alerts use them: none may change.
var namesBefore = []string{
	"cla_http_request_duration_seconds", "cla_http_requests_total", "cla_http_waiting",
	"cla_notification_failures_total", "cla_notifications_dropped_total", "cla_notifications_sent_total", "cla_outbox_pending",
	"cla_slack_ack_seconds", "cla_slack_connects_total", "cla_slack_envelopes_total", "cla_slack_handler_errors_total",
	"cla_slack_mirrored_total", "cla_talkback_requests_total",
	"cla_web_monitor_actions_total", "cla_web_monitor_sign_ins_total", "cla_web_monitor_streams",
	"go_goroutines", "go_memstats_heap_inuse_bytes", "process_start_time_seconds",
}

// describing is a Registerer that also records the names of what it
// registers, vectors without series included (Gather would skip those).
type describing struct {
	*prometheus.Registry
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d describing) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return d.Registry.Register(c)
}

func (d describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// TestMetrics_SameNames registers every component's metrics as serve does
// and checks that each name served before is served still.
func TestMetrics_SameNames(t *testing.T) {
	broker := jobs.NewBroker()
	reg := newRegistry(broker)
	sub := broker.Subscribe("test", 1)
	defer sub.Close()
	for range 2 { // the second has no room: counted
		broker.Publish(jobs.Event{Type: jobs.EventJobUpdated, Job: &jobs.Job{ID: "qa-1"}})
	}
	d := describing{Registry: reg, names: map[string]bool{}}
	bot.NewMetrics(d)
	talkbot.NewMetrics(d)
	notify.NewMetrics(d)
	monitor.NewMetrics(d)
	api := web.New(web.Config{Registry: reg})                                          // registers the API's own in reg
	api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil)) // gives its vectors a series
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		d.names[f.GetName()] = true
	}
	var missing []string
	for _, n := range namesBefore {
		if !d.names[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "metric names that disappeared")
	require.True(t, d.names["cla_events_dropped_total"], "the broker's drop counter is served")
}

// TestStoreMetrics serves the bbolt store's group-commit counters.
func TestStoreMetrics(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "cla.db"))
	require.NoError(t, err)
	defer db.Close()
	reg := prometheus.NewRegistry()
	registerStoreMetrics(reg, db)
	job := &jobs.Job{ID: "m-1", Name: "metrics", Status: jobs.StatusInProgress, CreatedAt: time.Now()}
	require.NoError(t, db.CreateJob(context.Background(), job, jobs.Effects{}))

	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		got[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
	}
	require.Equal(t, 1.0, got["cla_store_commits_total"])
	require.Equal(t, 1.0, got["cla_store_commit_changes_total"])
	require.Positive(t, got["cla_store_pages_written_total"])
	require.Positive(t, got["cla_store_commit_seconds_total"])
	require.Contains(t, got, "cla_store_write_seconds_total")
}

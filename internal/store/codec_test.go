package store

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/stretchr/testify/require"
)

// codecJobs makes jobs with most fields set, through the service: every
// gate kind, votes, evidence, a checklist, reminders, escalation,
// channels, a nested context with markup, unicode and numbers.
func codecJobs(t testing.TB) ([]*jobs.Job, []jobs.LogEntry) {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ci := jobs.Identity{Name: "ci", Admin: true}
	alice := jobs.Identity{Name: "alice", Groups: []string{"ops"}}
	bob := jobs.Identity{Name: "bob", Groups: []string{"ops"}}
	context := map[string]any{
		"deployment": map[string]any{"slug": "web <b>&</b>", "replicas": 3, "ratio": 0.25, "tags": []any{"a", "ü", "😀"}},
		"release":    map[string]any{"version": map[string]any{"tag": "v1.2.3"}},
		"empty":      map[string]any{}, "nothing": nil, "flag": true, "big": 1e21,
	}
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "action", Name: "Deploy {[ deployment.slug ]}", Context: context,
		Gate: &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Description: "Do *this* <now> & \"then\" that\u2028",
			Assignees: []string{"alice", "ops"}, RequireEvidence: true, Checklist: []string{"one", "two"},
			Timeout: "2h", Reminder: &jobs.Reminder{Interval: "15m", MaxReminders: 3},
			Escalation: []jobs.Escalation{{After: "30m", Assignees: []string{"bob"}}},
			Channels:   []jobs.NotifyChannel{{Type: jobs.ChannelEmail, ChannelID: "ops@example.com"}}}})
	require.NoError(t, err)
	_, _, err = svc.ToggleChecklist(ctx, alice, jobs.ViaAPI, "action", 0, true)
	require.NoError(t, err)
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "approval", Name: "Release", Requester: "carol",
		Gate: &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Ship", Assignees: []string{"ops"}, Required: 2}})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, alice, jobs.ViaSlack, "approval", jobs.Resolution{Action: jobs.ActApprove, Message: "lgtm ✅"})
	require.NoError(t, err)
	_, _, err = svc.Resolve(ctx, bob, jobs.ViaAPI, "approval", jobs.Resolution{Action: jobs.ActApprove})
	require.NoError(t, err)
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "plain", Name: "plain"})
	require.NoError(t, err)
	var out []*jobs.Job
	var logs []jobs.LogEntry
	for _, id := range []string{"action", "approval", "plain"} {
		j, err := svc.GetJob(ctx, id)
		require.NoError(t, err)
		out = append(out, j)
		entries, err := db.Log(ctx, id, 0, 100)
		require.NoError(t, err)
		logs = append(logs, entries...)
	}
	return out, logs
}

// TestJobCodec_AsEncodingJSON: the record codec writes the bytes
// encoding/json writes, and reads them back to what encoding/json reads.
func TestJobCodec_AsEncodingJSON(t *testing.T) {
	all, logs := codecJobs(t)
	for _, j := range all {
		t.Run(j.ID, func(t *testing.T) {
			rec := *j
			rec.Annotations = nil
			want, err := json.Marshal(&rec)
			require.NoError(t, err)
			got, err := encodeJob(j)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))

			var std jobs.Job
			require.NoError(t, json.Unmarshal(want, &std))
			decoded, err := decodeJob(want)
			require.NoError(t, err)
			require.Equal(t, &std, decoded)
		})
	}
	_, err := decodeJob([]byte(`{"id": 7}`))
	require.ErrorContains(t, err, "decode job")

	// Log entries are written by the same codec.
	require.NotEmpty(t, logs)
	for _, e := range logs {
		want, err := json.Marshal(e)
		require.NoError(t, err)
		got, err := jsonv1.Marshal(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
}

// BenchmarkJobCodec compares the record codec with encoding/json on a
// job with a resolved approval.
//
//	go test -run '^$' -bench JobCodec ./internal/store
func BenchmarkJobCodec(b *testing.B) {
	all, _ := codecJobs(b)
	j := all[1]
	data, err := encodeJob(j)
	require.NoError(b, err)
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var x jobs.Job
			if err := json.Unmarshal(data, &x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeJob(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(j); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeJob(j); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEncodeLog_WithSeqAsMarshal checks that an entry encoded before the
// transaction, its number written in by withSeq, is byte for byte what
// encoding/json writes for the entry with that number.
func TestEncodeLog_WithSeqAsMarshal(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.UTC)
	entries := []jobs.LogEntry{
		{At: at, Kind: jobs.LogKind("gate"), Text: "done"},
		{Seq: 77, At: at, Kind: jobs.LogKind("chat"), Actor: "slack:U1", Via: "slack", Text: "a \"quoted\" <b>line</b>\n\u2028 é",
			Gate: "g1", Fields: map[string]string{"z": "1", "a": "{\"seq\":0,"}, Key: "slack:C1/1.2"},
		{},
	}
	log, err := encodeLog(entries)
	require.NoError(t, err)
	for i, e := range entries {
		for _, seq := range []uint64{1, 9, 10, 12345, math.MaxUint64} {
			e.Seq = seq
			want, err := json.Marshal(e)
			require.NoError(t, err)
			require.Equal(t, string(want), string(withSeq(log.data[i], seq)), "entry %d, seq %d", i, seq)
		}
	}
}

package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestOpen_MovesAnnotationsOut: a file written when annotations lived in
// the job record and file bytes in log entries is migrated at Open: the
// records move to their bucket with the usage counters set, the bytes to
// the files bucket, and the log entry keeps a reference instead.
func TestOpen_MovesAnnotationsOut(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := Open(path)
	require.NoError(t, err)
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ci := jobs.Identity{Name: "ci", Admin: true}
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "old-1", Name: "legacy"})
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "old-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "hello"})
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "old-1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "out.bin", Content: []byte("\x00bytes\xff")})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	// Rewrite it the way the previous release stored it.
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		var refs []jobs.AnnotationRef
		require.NoError(t, tx.Bucket(bucketAnnotations).ForEach(func(_, v []byte) error {
			var r jobs.AnnotationRef
			require.NoError(t, json.Unmarshal(v, &r))
			refs = append(refs, r)
			return nil
		}))
		var rec map[string]any
		require.NoError(t, json.Unmarshal(tx.Bucket(bucketJobs).Get([]byte("old-1")), &rec))
		delete(rec, "annotationCount")
		delete(rec, "annotationBytes")
		delete(rec, "fileCount")
		rec["annotations"] = refs
		data, _ := json.Marshal(rec)
		require.NoError(t, tx.Bucket(bucketJobs).Put([]byte("old-1"), data))
		lb := tx.Bucket(bucketLogs).Bucket([]byte("old-1"))
		require.NoError(t, lb.ForEach(func(k, v []byte) error {
			var e map[string]any
			require.NoError(t, json.Unmarshal(v, &e))
			if f, _ := e["fields"].(map[string]any); f != nil && f["annotation"] == "2" {
				delete(f, "content")
				e["contentBase64"] = []byte("\x00bytes\xff")
				data, _ := json.Marshal(e)
				return lb.Put(k, data)
			}
			return nil
		}))
		require.NoError(t, tx.DeleteBucket(bucketAnnotations))
		require.NoError(t, tx.DeleteBucket(bucketFiles))
		return tx.Bucket(bucketMeta).Delete([]byte("data:annotations-apart:1"))
	}))
	require.NoError(t, b.Close())

	db, err = Open(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Check())
	job, err := db.GetJob(ctx, "old-1")
	require.NoError(t, err)
	require.Empty(t, job.Annotations, "the record no longer holds them")
	require.Equal(t, 2, job.AnnotationCount)
	require.Equal(t, 1, job.FileCount)
	require.Equal(t, int64(len("hello")+len("\x00bytes\xff")), job.AnnotationBytes)
	refs, err := db.Annotations(ctx, "old-1", 0, 0)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	require.Equal(t, "out.bin", refs[1].Name)
	content, err := db.AnnotationContent(ctx, "old-1", 2)
	require.NoError(t, err)
	require.Equal(t, "\x00bytes\xff", string(content))
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLogs).Bucket([]byte("old-1")).ForEach(func(_, v []byte) error {
			require.NotContains(t, string(v), "contentBase64", "no log entry carries bytes")
			return nil
		})
	}))
	entries, err := db.Log(ctx, "old-1", 0, 100)
	require.NoError(t, err)
	require.Equal(t, "/v1/jobs/old-1/annotations/2/content", entries[len(entries)-1].Fields["content"])

	// The service reads the migrated job as before.
	svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	got, err := svc.GetJob(ctx, "old-1")
	require.NoError(t, err)
	require.Len(t, got.Annotations, 2)
	_, bytes, err := svc.AnnotationContent(ctx, "old-1", 2)
	require.NoError(t, err)
	require.Equal(t, "\x00bytes\xff", string(bytes))
}

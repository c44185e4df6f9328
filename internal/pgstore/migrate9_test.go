package pgstore_test

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/jobs"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestMigration9_MovesAnnotationsOut checks that schema 9 moves the
// annotations a job record held into cla_annotations (with the usage
// counters) and the file bytes log entries carried into cla_files.
func TestMigration9_MovesAnnotationsOut(t *testing.T) {
	ctx := context.Background()
	u := pgtest.FreshURL(t)
	db := open(t, u, pgstore.Options{})
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ci := jobs.Identity{Name: "ci", Admin: true}
	_, err := svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "old-1", Name: "legacy"})
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "old-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "hello"})
	require.NoError(t, err)
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "old-1", jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: "out.bin", Content: []byte("\x00bytes\xff")})
	require.NoError(t, err)
	_, err = svc.CreateJob(ctx, ci, jobs.ViaAPI, jobs.NewJob{ID: "bare", Name: "no annotations"})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	// Back to schema 8: annotations in the record, bytes in the log.
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `
		UPDATE cla_jobs SET data = convert_to(((convert_from(data, 'UTF8')::jsonb - 'annotationCount' - 'annotationBytes' - 'fileCount')
			|| jsonb_build_object('annotations', coalesce((SELECT jsonb_agg(convert_from(a.data, 'UTF8')::jsonb ORDER BY a.n)
				FROM cla_annotations a WHERE a.job_id = cla_jobs.id), '[]'::jsonb)))::text, 'UTF8');
		UPDATE cla_logs SET data = convert_to(((convert_from(data, 'UTF8')::jsonb #- '{fields,content}')
			|| jsonb_build_object('contentBase64', (SELECT encode(f.content, 'base64') FROM cla_files f WHERE f.job_id = cla_logs.job_id AND f.n = 2)))::text, 'UTF8')
			WHERE job_id = 'old-1' AND convert_from(data, 'UTF8')::jsonb -> 'fields' ->> 'annotation' = '2';
		DROP TABLE cla_annotations, cla_files;
		DELETE FROM cla_schema WHERE version >= 9`)
	require.NoError(t, err)
	var legacy string
	require.NoError(t, conn.QueryRow(ctx, `SELECT convert_from(data, 'UTF8') FROM cla_logs WHERE job_id = 'old-1' ORDER BY seq DESC LIMIT 1`).Scan(&legacy))
	require.Contains(t, legacy, "contentBase64", "the log entry carries the bytes, as before")
	require.NoError(t, conn.Close(ctx))

	db = open(t, u, pgstore.Options{})
	job, err := db.GetJob(ctx, "old-1")
	require.NoError(t, err)
	require.Empty(t, job.Annotations)
	require.Equal(t, 2, job.AnnotationCount)
	require.Equal(t, 1, job.FileCount)
	require.Equal(t, int64(len("hello")+len("\x00bytes\xff")), job.AnnotationBytes)
	bare, err := db.GetJob(ctx, "bare")
	require.NoError(t, err)
	require.Zero(t, bare.AnnotationCount)
	refs, err := db.Annotations(ctx, "old-1", 0, 0)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	require.Equal(t, "out.bin", refs[1].Name)
	content, err := db.AnnotationContent(ctx, "old-1", 2)
	require.NoError(t, err)
	require.Equal(t, "\x00bytes\xff", string(content))
	entries, err := db.Log(ctx, "old-1", 0, 100)
	require.NoError(t, err)
	last := entries[len(entries)-1]
	require.Equal(t, "/v1/jobs/old-1/annotations/2/content", last.Fields["content"])
	svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	_, err = svc.Annotate(ctx, ci, jobs.ViaAPI, "old-1", jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "after"})
	require.NoError(t, err)
	got, err := svc.GetJob(ctx, "old-1")
	require.NoError(t, err)
	require.Len(t, got.Annotations, 3, "numbering goes on after the migrated ones")
	require.Equal(t, 3, got.Annotations[2].ID)
}

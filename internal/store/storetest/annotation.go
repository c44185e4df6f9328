package storetest

import (
	"context"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

func annotated(n int, content string) jobs.NewAnnotationRecord {
	ref := jobs.AnnotationRef{ID: n, Kind: jobs.AnnotationComment, Preview: "note", Actor: "ci", Via: jobs.ViaAPI, At: T0}
	if content != "" {
		ref.Kind, ref.Name, ref.Size, ref.Stored = jobs.AnnotationFile, "out.txt", len(content), true
	}
	return jobs.NewAnnotationRecord{Ref: ref, Content: []byte(content)}
}

// testAnnotationsApart: annotations are written with a change and kept
// beside the job, never in its record; file bytes apart again.
func testAnnotationsApart(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	require.NoError(t, db.CreateJob(ctx, NewJob("a-1", T0, jobs.StatusPending), jobs.Effects{Annotations: []jobs.NewAnnotationRecord{annotated(1, "")}}))
	for n := 2; n <= 4; n++ {
		content := ""
		if n == 3 {
			content = "file bytes\x00\xff"
		}
		_, _, err := db.UpdateJob(ctx, "a-1", func(j *jobs.Job) (jobs.Effects, error) {
			require.Empty(t, j.Annotations, "UpdateJob never hands over the annotations")
			j.AnnotationCount = n
			return jobs.Effects{Annotations: []jobs.NewAnnotationRecord{annotated(n, content)}}, nil
		})
		require.NoError(t, err)
	}
	job, err := db.GetJob(ctx, "a-1")
	require.NoError(t, err)
	require.Empty(t, job.Annotations, "GetJob does not read them")
	require.Equal(t, 4, job.AnnotationCount)

	all, err := db.Annotations(ctx, "a-1", 0, 0)
	require.NoError(t, err)
	require.Len(t, all, 4)
	for i, ref := range all {
		require.Equal(t, i+1, ref.ID)
	}
	page, err := db.Annotations(ctx, "a-1", 1, 2)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, []int{page[0].ID, page[1].ID}, "after and limit")
	require.True(t, page[1].Stored)
	none, err := db.Annotations(ctx, "nope", 0, 0)
	require.NoError(t, err)
	require.Empty(t, none)

	content, err := db.AnnotationContent(ctx, "a-1", 3)
	require.NoError(t, err)
	require.Equal(t, "file bytes\x00\xff", string(content))
	for _, n := range []int{1, 9} {
		_, err = db.AnnotationContent(ctx, "a-1", n)
		require.Equal(t, jobs.ENOTFOUND, jobs.ErrorCode(err), "annotation %d keeps no bytes", n)
	}

	// A refused change writes no annotation.
	_, _, err = db.UpdateJob(ctx, "a-1", func(j *jobs.Job) (jobs.Effects, error) {
		return jobs.Effects{Annotations: []jobs.NewAnnotationRecord{annotated(5, "x")}}, jobs.Errorf(jobs.EINVALID, "no")
	})
	require.Error(t, err)
	all, err = db.Annotations(ctx, "a-1", 0, 0)
	require.NoError(t, err)
	require.Len(t, all, 4)
}

func testLogCount(t *testing.T, db jobs.Store) {
	ctx := context.Background()
	n, err := db.LogCount(ctx, "c-1")
	require.NoError(t, err)
	require.Zero(t, n, "an unknown job has none")
	require.NoError(t, db.CreateJob(ctx, NewJob("c-1", T0, jobs.StatusPending), jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogAudit, Text: "created"}}}))
	_, err = db.AppendLog(ctx, "c-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Text: "a"}, {Kind: jobs.LogMessage, Text: "b", Key: "k"}}, 0)
	require.NoError(t, err)
	_, err = db.AppendLog(ctx, "c-1", []jobs.LogEntry{{Kind: jobs.LogMessage, Text: "b again", Key: "k"}}, 0)
	require.NoError(t, err)
	n, err = db.LogCount(ctx, "c-1")
	require.NoError(t, err)
	require.Equal(t, uint64(3), n, "a deduplicated entry is not counted")
}

package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// withAnnotations makes job id with n comment annotations, written in
// chunks straight through the store (the service would pay one commit
// each).
func withAnnotations(tb testing.TB, db *store.DB, id string, n int) {
	tb.Helper()
	ctx := context.Background()
	require.NoError(tb, db.CreateJob(ctx, newJob(id, time.Now(), jobs.StatusInProgress), jobs.Effects{}))
	for done := 0; done < n; {
		_, _, err := db.UpdateJob(ctx, id, func(j *jobs.Job) (jobs.Effects, error) {
			var fx jobs.Effects
			for ; done < n && len(fx.Annotations) < 1000; done++ {
				ref := jobs.AnnotationRef{ID: done + 1, Kind: jobs.AnnotationComment, Size: 80, Actor: "alice", Via: jobs.ViaSlack,
					Preview: fmt.Sprintf("comment %d: the disk in node-7 is swapped, rebuilding the array now", done+1), At: time.Now()}
				fx.Annotations = append(fx.Annotations, jobs.NewAnnotationRecord{Ref: ref})
				fx.Log = append(fx.Log, jobs.LogEntry{Kind: jobs.LogAnnotation, Text: ref.Preview})
			}
			j.AnnotationCount, j.AnnotationBytes = done, int64(80*done)
			return fx, nil
		})
		require.NoError(tb, err)
	}
}

// TestDB_JobRecordIndependentOfAnnotations: the job record a read or an
// update decodes and encodes is the same size with 100 or 10,000
// annotations (issue 17 item 11: it held every annotation before).
func TestDB_JobRecordIndependentOfAnnotations(t *testing.T) {
	db := open(t)
	withAnnotations(t, db, "few", 100)
	withAnnotations(t, db, "many", 10000)
	sizes := map[string]int{}
	require.NoError(t, db.ForEachJobRecord(func(id string, data []byte) error {
		sizes[id] = len(data)
		return nil
	}))
	require.InDelta(t, sizes["few"], sizes["many"], 8, "record sizes %v", sizes)
	require.Less(t, sizes["many"], 1024)
}

// BenchmarkDB_AnnotationGrowth measures a job read, a job update and one
// more annotation (through jobs.Service) on jobs with 100, 1,000 and 10,000
// annotations. Compare ns/op across sizes within one run: the cost must
// stay flat (README, Performance).
func BenchmarkDB_AnnotationGrowth(b *testing.B) {
	ctx := context.Background()
	db := open(b)
	sizes := []int{100, 1000, 10000}
	for _, n := range sizes {
		withAnnotations(b, db, fmt.Sprintf("job-%d", n), n)
	}
	svc := jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	ci := jobs.Identity{Name: "ci", Admin: true}
	for _, n := range sizes {
		id := fmt.Sprintf("job-%d", n)
		b.Run(fmt.Sprintf("op=get/annotations=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.GetJob(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("op=update/annotations=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, _, err := db.UpdateJob(ctx, id, func(j *jobs.Job) (jobs.Effects, error) {
					j.Version++
					j.Message = fmt.Sprint("progress ", i)
					return jobs.Effects{}, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("op=annotate/annotations=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := svc.Annotate(ctx, ci, jobs.ViaAPI, id, jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: "one more"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/pgstore"
	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/internal/store/storetest"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// BenchmarkDB_AnnotationGrowth is the bbolt store's benchmark of the same
// name on PostgreSQL: a job read, a job update and one more annotation on
// jobs holding 100, 1,000 and 10,000 annotations. Compare ns/op across
// sizes within one run.
func BenchmarkDB_AnnotationGrowth(b *testing.B) {
	ctx := context.Background()
	db := open(b, pgtest.FreshURL(b), pgstore.Options{})
	sizes := []int{100, 1000, 10000}
	for _, n := range sizes {
		id := fmt.Sprintf("job-%d", n)
		require.NoError(b, db.CreateJob(ctx, storetest.NewJob(id, time.Now(), jobs.StatusInProgress), jobs.Effects{}))
		for done := 0; done < n; {
			_, _, err := db.UpdateJob(ctx, id, func(j *jobs.Job) (jobs.Effects, error) {
				var fx jobs.Effects
				for ; done < n && len(fx.Annotations) < 1000; done++ {
					ref := jobs.AnnotationRef{ID: done + 1, Kind: jobs.AnnotationComment, Size: 80, Actor: "alice", Via: jobs.ViaSlack,
						Preview: fmt.Sprintf("comment %d: the disk in node-7 is swapped, rebuilding the array now", done+1), At: time.Now()}
					fx.Annotations = append(fx.Annotations, jobs.NewAnnotationRecord{Ref: ref})
				}
				j.AnnotationCount = done
				return fx, nil
			})
			require.NoError(b, err)
		}
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

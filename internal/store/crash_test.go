package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

const crashChildEnv = "CLA_STORE_CRASH_CHILD"

// TestMain lets the test binary act as the crashing child process.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends log entries from four writers forever, printing an
// acknowledgement line after each append has returned (is durable).
func crashChild(path string) {
	ctx := context.Background()
	db, err := store.Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	job := &jobs.Job{ID: "crash", Name: "crash", Status: jobs.StatusInProgress, Version: 1}
	if err := db.CreateJob(ctx, job, jobs.Effects{}); err != nil && jobs.ErrorCode(err) != jobs.ECONFLICT {
		fmt.Println("error", err)
		os.Exit(1)
	}
	run := os.Getenv("CLA_STORE_CRASH_RUN")
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for w := 0; w < 4; w++ {
		go func() {
			for i := 0; ; i++ {
				text := fmt.Sprintf("%s %d %d", run, w, i)
				_, _, err := db.UpdateJob(ctx, "crash", func(j *jobs.Job) (jobs.Effects, error) {
					j.Version++
					return jobs.Effects{Log: []jobs.LogEntry{{Kind: jobs.LogMessage, Text: text}}}, nil
				})
				if err != nil {
					return
				}
				mu.Lock()
				fmt.Fprintln(out, "ack", text)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestDB_SurvivesSIGKILL kills a writing child at random instants and
// checks that every acknowledged entry is there, in order, untorn.
func TestDB_SurvivesSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[string]bool{}
	for run := 0; run < 20; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("CLA_STORE_CRASH_RUN=r%d", run))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		killAfter := 1 + rand.IntN(300)
		for n := 0; lines.Scan(); n++ {
			line := lines.Text()
			require.True(t, strings.HasPrefix(line, "ack "), "child said: %s", line)
			acked[strings.TrimPrefix(line, "ack ")] = true
			if n == killAfter {
				require.NoError(t, cmd.Process.Kill())
				break
			}
		}
		_ = cmd.Wait()
		verifyCrashDB(t, path, acked)
	}
}

func verifyCrashDB(t *testing.T, path string, acked map[string]bool) {
	t.Helper()
	db, err := store.Open(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Check())
	job, err := db.GetJob(context.Background(), "crash")
	require.NoError(t, err)
	log, err := db.Log(context.Background(), "crash", 0, 1<<30)
	require.NoError(t, err)
	require.Equal(t, uint64(len(log))+1, job.Version, "job version and log move together in one transaction")
	seen := map[string]bool{}
	last := map[string]int{}
	for i, e := range log {
		require.Equal(t, uint64(i+1), e.Seq, "no gaps in the sequence")
		f := strings.Fields(e.Text)
		require.Len(t, f, 3)
		n, _ := strconv.Atoi(f[2])
		writer := f[0] + "/" + f[1]
		if prev, ok := last[writer]; ok {
			require.Equal(t, prev+1, n, "writer %s in order", writer)
		}
		last[writer] = n
		seen[e.Text] = true
	}
	for text := range acked {
		require.True(t, seen[text], "acknowledged entry %q lost", text)
	}
}

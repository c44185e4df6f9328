package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// FuzzParse feeds the parser arbitrary bytes: it must never panic, must
// answer with a *ParseError, and whatever it accepts must be a valid DAG.
func FuzzParse(f *testing.F) {
	if src, err := os.ReadFile(filepath.Join(examplesDir, "release.workflow.yaml")); err == nil {
		f.Add(src)
	}
	f.Add([]byte(`{"name": "j", "steps": [{"id": "a", "type": "shell", "config": {"command": "true"}}]}`))
	f.Add([]byte("name: x\nsteps:\n  - {id: a, type: shell, depends_on: [b], config: {command: x}}\n  - {id: b, type: shell, depends_on: [a], config: {command: x}}\n"))
	f.Add([]byte("name: x\nsteps:\n  - &s {id: a, type: shell, config: {command: '{{env.X}}'}}\n  - *s\n"))
	f.Add([]byte("name: x\nsteps:\n  - {id: g, type: gate, trap: {timeout: 1h}, if: 'env.A == \"1\"', config: {kind: approval, name: N}}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang detector, not a speed test: 30 s also holds on a loaded CI
		// machine running the seed corpus under -race.
		watchdog := time.AfterFunc(30*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("parse hung on %q\n%s", src, buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		w, err := Parse("fuzz", src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		if w.Name == "" || len(w.Steps) == 0 || len(w.Hash) != 64 {
			t.Fatalf("accepted an incomplete workflow: %+v", w)
		}
		for _, s := range w.Steps {
			for _, d := range s.DependsOn {
				if w.Step(d) == nil {
					t.Fatalf("accepted unknown dependency %q", d)
				}
			}
		}
		if c := findCycle(w); c != nil {
			t.Fatalf("accepted a cycle %v", c)
		}
	})
}

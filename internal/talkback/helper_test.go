package talkback

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the command under test: when TALKBACK_HELPER
// is set (through the action's env, which also proves env is passed), it
// acts out one behaviour and exits instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TALKBACK_HELPER"); mode != "" {
		helperEnv = os.Environ()
		quietCoverage()
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

// helperEnv is the environment the executor gave the helper process.
var helperEnv []string

// quietCoverage keeps a coverage-instrumented helper (go test -cover) from
// warning on stderr at exit, which would change the output under test: the
// executor passes no GOCOVERDIR, so give it a throwaway one.
func quietCoverage() {
	if testing.CoverMode() == "" || os.Getenv("GOCOVERDIR") != "" {
		return
	}
	if dir, err := os.MkdirTemp("", "talkback-helper-cover-"); err == nil {
		_ = os.Setenv("GOCOVERDIR", dir)
	}
}

func helperMain(mode string) int {
	switch mode {
	case "argv": // record argv, env and cwd exactly
		wd, _ := os.Getwd()
		data, _ := json.Marshal(map[string]any{"argv": os.Args, "env": helperEnv, "wd": wd})
		_ = os.WriteFile(os.Getenv("RECORD"), data, 0o600)
		fmt.Println("recorded")
	case "flood": // 10 MB on stdout and stderr, then a clean exit
		chunk := []byte(strings.Repeat("y\n", 32<<10))
		for i := 0; i < 160; i++ {
			w := os.Stdout
			if i%2 == 1 {
				w = os.Stderr
			}
			_, _ = w.Write(chunk)
		}
	case "tree": // a child that records its pid, then both wait forever
		spawnSleeper()
		time.Sleep(time.Hour)
	case "orphan": // leave a child behind holding stdout, and exit 0
		spawnSleeper()
	case "sleeper":
		_ = os.WriteFile(os.Getenv("PIDFILE")+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o600)
		_ = os.Rename(os.Getenv("PIDFILE")+".tmp", os.Getenv("PIDFILE"))
		time.Sleep(time.Hour)
	case "exit":
		fmt.Println("bye")
		code, _ := strconv.Atoi(os.Getenv("CODE"))
		return code
	}
	return 0
}

// spawnSleeper starts a child sharing stdout and waits until its pid file
// exists, so the caller knows the child is alive.
func spawnSleeper() {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TALKBACK_HELPER=sleeper")
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		os.Exit(99)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if _, err := os.Stat(os.Getenv("PIDFILE")); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond) // helper process, not a test: polling a file
	}
	os.Exit(98)
}

// processGone reports whether pid no longer runs (absent or a zombie that
// only waits to be reaped by init).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

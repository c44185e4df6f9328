package bot

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/bot/talkbot"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/slackemu"
)

// TestBot_TalkBackQueueLeavesHandlers: TalkBack commands run inside the
// bot's handler workers (16), and a request waiting for one of the
// executor's four slots waited there too, for as long as the commands ran.
// Twenty `@cla run` requests in twenty job channels took every worker, so
// nobody else's mention, click or slash command was handled until the
// commands ended. The executor's queue is bounded (limits.talkbackQueue):
// the requests beyond it are refused at once, and other work goes on.
func TestBot_TalkBackQueueLeavesHandlers(t *testing.T) {
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	yaml := "actions:\n  - name: slow\n    description: waits for the test\n" +
		"    command: [\"sh\", \"-c\", " + strconv.Quote("while [ ! -e "+release+" ]; do sleep 0.05; done") + "]\n" +
		"    timeout: 5m\n"
	path := filepath.Join(dir, "talkback.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	list, err := talkback.Load(path)
	require.NoError(t, err)
	// Whatever happens, the commands end with the test.
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o600) })

	exec := talkback.NewExecutor(talkback.ExecutorConfig{MaxPerJob: 1, MaxTotal: 4, Logger: slog.New(slog.DiscardHandler)})
	setup := func(b *Bot) {
		gcfg := gates.Config{API: b.Client(), Service: b.svc, Directory: b.cfg.Directory, People: b.People(),
			PublicURL: "http://cla.test", Logger: slog.New(slog.DiscardHandler), Budget: b.Budget(), HTTP: b.HTTPClient()}
		tb := talkbot.New(talkbot.Config{Service: b.svc, Directory: b.cfg.Directory, People: b.People(),
			Registry: talkback.NewRegistry(list, slog.New(slog.DiscardHandler)), Slack: b.Client(), Executor: exec,
			Logger: slog.New(slog.DiscardHandler)})
		b.UseGates(gates.NewHandler(gcfg), tb)
	}
	h := newSetupHarness(t, slackemu.Config{}, setup)

	const requests = 20
	for i := range requests {
		ch := h.bound(fmt.Sprintf("tb-%d", i))
		h.mention(h.alice.ID, ch.ID, "run slow")
	}
	h.idle() // every request is acked and queued for a handler
	h.waitFor("four commands running", func() bool { running, _ := exec.Stats(); return running == 4 })

	// With the commands still running, someone else's request is handled.
	require.Contains(t, h.ask(h.bob.ID, "#general", "help"), "Things you can ask me")
	running, queued := exec.Stats()
	require.Equal(t, 4, running, "the commands are still running")
	require.LessOrEqual(t, queued, talkback.DefaultMaxQueued)
	refused := func() int {
		n := 0
		for _, e := range h.emu.Ephemerals(h.alice.ID) {
			if strings.Contains(e.Text, "limits.talkbackQueue") {
				n++
			}
		}
		return n
	}
	h.waitFor("the requests beyond the queue refused", func() bool { return refused() == requests-4-talkback.DefaultMaxQueued })

	require.NoError(t, os.WriteFile(release, nil, 0o600))
	h.waitFor("commands finish", func() bool { running, queued := exec.Stats(); return running == 0 && queued == 0 })
}

package gates_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/internal/bot/gates"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// waitHome waits until the user's App Home shows text.
func (e *env) waitHome(user, want string) slackemu.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	v, err := e.emu.WaitView(ctx, func(v slackemu.View) bool {
		return v.Type == "home" && v.User == user && strings.Contains(text(v.Blocks), want)
	})
	h, _ := e.emu.HomeView(user)
	require.NoError(e.t, err, "home of %s never showed %q; it shows %s", user, want, text(h.Blocks))
	return v
}

func TestHandler_HomeOpened(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-40", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}})

	_, err := e.emu.OpenAppHome(alice)
	require.NoError(t, err)
	v := e.waitHome(alice, "Swap disk")
	require.Contains(t, actionIDs(t, v.Blocks), blocks.ActionComplete)

	// A gate opened through the API appears without reopening the tab.
	e.clock.Add(time.Minute)
	e.open("qa-41", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release", Assignees: []string{"ops"}})
	v = e.waitHome(alice, "Release")
	require.Less(t, strings.Index(text(v.Blocks), "Release"), strings.Index(text(v.Blocks), "Swap disk"), "newest first")

	// Clicking in the home resolves and republishes it.
	_, err = e.emu.Act(e.ctx, slackemu.Action{User: alice, ViewID: v.ID, ActionID: blocks.ActionComplete,
		BlockID: blocks.BlockID("qa-40", "g1", "actions")})
	require.NoError(t, err)
	e.waitJob("qa-40", func(j *jobs.Job) bool { return j.OpenGate() == nil })
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	_, err = e.emu.WaitView(ctx, func(v slackemu.View) bool {
		return v.Type == "home" && v.User == alice && !strings.Contains(text(v.Blocks), "Swap disk")
	})
	require.NoError(t, err)

	_, err = e.emu.OpenAppHome(carol)
	require.NoError(t, err)
	e.waitHome(carol, "Nothing is waiting on you.")
}

func TestHandler_SlashOpensEvidenceModal(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	e.open("qa-42", jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap disk", Assignees: []string{"alice"}, RequireEvidence: true})
	_, err := e.emu.RunSlashCommand(e.ctx, slackemu.SlashCommand{User: alice, Channel: e.channel, Command: "/manual-action",
		Text: "complete qa-42"})
	require.NoError(t, err)
	v := e.waitModal(blocks.CallbackEvidence)
	_, err = e.emu.SubmitView(e.ctx, slackemu.Submission{ViewID: v.ID, Values: map[string]map[string]string{
		blocks.BlockEvidenceMessage: {blocks.InputEvidenceMessage: "done"}}})
	require.NoError(t, err)
	require.Equal(t, jobs.OutcomeSuccessful, *e.job("qa-42").LastGate().Outcome)

	_, err = e.emu.RunSlashCommand(e.ctx, slackemu.SlashCommand{User: bob, Channel: e.channel, Command: "/manual-action",
		Text: "reassign qa-42 @alice", Escape: true})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	for {
		if eph := e.emu.Ephemerals(bob); len(eph) > 0 {
			require.Contains(t, eph[0].Text, "job qa-42 has no open gate to reassign")
			break
		}
		select { // poll: the emulator exports no wait for ephemerals
		case <-ctx.Done():
			t.Fatal("no answer to the slash command")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestHandler_RunHungSlack bounds each event's Slack work: a views.publish
// that never answers must not stop the App Home refreshes that follow.
func TestHandler_RunHungSlack(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	api := slack.New(e.emu.BotToken(), slack.OptionAPIURL(e.emu.APIURL()))
	// Its own chat state, so the env's running handler knows no home to
	// refresh and the hung call is this handler's, not a race's.
	state, err := store.Open(filepath.Join(t.TempDir(), "homes.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = state.Close() })
	h := gates.NewHandler(gates.Config{API: api, Service: e.svc, Directory: jobs.NewDirectory(identities), State: state})
	// Long enough for a healthy views.publish under -race on a loaded
	// machine (200 ms timed out the second refresh too), far shorter than
	// the hung call.
	h.SetEventTimeout(5 * time.Second)
	e.open("qa-45", jobs.GateConfig{Kind: jobs.KindAction, Name: "First", Assignees: []string{"alice"}})
	require.NoError(t, h.HomeOpened(e.ctx, alice))
	e.waitHome(alice, "First")

	e.emu.InjectFault("views.publish", slackemu.Fault{Latency: time.Hour, Times: 1})
	e.clock.Add(time.Minute)
	e.open("qa-46", jobs.GateConfig{Kind: jobs.KindAction, Name: "Second", Assignees: []string{"alice"}})
	for _, id := range []string{"qa-45", "qa-46"} { // the first refresh hangs, the second must still run
		job, done := e.job(id), make(chan struct{})
		go func() {
			defer close(done)
			h.OnEvent(e.ctx, jobs.Event{Type: jobs.EventGateOpened, Job: job, Gate: job.OpenGate()})
		}()
		select {
		case <-done:
		case <-time.After(waitLimit + 30*time.Second):
			t.Fatal("an event's Slack work hung without a deadline")
		}
	}
	e.waitHome(alice, "Second")
}

// TestHandler_HomeRefreshedOnlyWhenConcerned checks that a change refreshes
// the homes of the people its gate waits on and of those whose home shows
// the job, and no other home; a change without a gate refreshes none.
func TestHandler_HomeRefreshedOnlyWhenConcerned(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	api := slack.New(e.emu.BotToken(), slack.OptionAPIURL(e.emu.APIURL()))
	// Its own chat state: the env's running handler must not refresh the
	// homes opened here (homes in one store are every replica's).
	state, err := store.Open(filepath.Join(t.TempDir(), "homes.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = state.Close() })
	h := gates.NewHandler(gates.Config{API: api, Service: e.svc, Directory: jobs.NewDirectory(identities), State: state})
	e.open("qa-50", jobs.GateConfig{Kind: jobs.KindAction, Name: "Alice's", Assignees: []string{"alice@EXAMPLE.com"}})
	for _, u := range []string{alice, bob, carol} {
		require.NoError(t, h.HomeOpened(e.ctx, u))
	}
	published := func() map[string]int {
		out := map[string]int{}
		for _, c := range e.emu.Calls("views.publish") {
			out[c.Args["user_id"]]++
		}
		return out
	}
	event := func(id string) {
		job := e.job(id)
		h.OnEvent(e.ctx, jobs.Event{Type: jobs.EventGateOpened, Job: job, Gate: job.LastGate()})
	}
	before := published()

	e.clock.Add(time.Minute)
	e.open("qa-51", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Carol's", Assignees: []string{"carol@example.com"}})
	event("qa-51")
	after := published()
	require.Equal(t, before[carol]+1, after[carol], "carol's gate refreshes carol's home")
	require.Equal(t, before[alice], after[alice], "alice is not concerned")
	require.Equal(t, before[bob], after[bob], "bob is not concerned")

	e.clock.Add(time.Minute)
	e.open("qa-52", jobs.GateConfig{Kind: jobs.KindPause, Name: "Ops'", Assignees: []string{"@ops"}})
	event("qa-52")
	after2 := published()
	require.Equal(t, after[alice]+1, after2[alice], "a group gate refreshes its members' homes")
	require.Equal(t, after[bob]+1, after2[bob])
	require.Equal(t, after[carol], after2[carol])

	// Reassigned away from alice: her home shows the job, so it is
	// refreshed once more to drop it, and not after that.
	_, _, err = e.svc.Reassign(e.ctx, ci, jobs.ViaAPI, "qa-50", []string{"carol@example.com"})
	require.NoError(t, err)
	event("qa-50")
	after3 := published()
	require.Equal(t, after2[alice]+1, after3[alice])
	require.Equal(t, after2[carol]+1, after3[carol])
	h.OnEvent(e.ctx, jobs.Event{Type: jobs.EventJobUpdated, Job: e.job("qa-50")}) // no gate changed
	h.OnEvent(e.ctx, jobs.Event{Type: jobs.EventLogAppended, Job: e.job("qa-50"), Gate: e.job("qa-50").OpenGate()})
	require.Equal(t, after3, published(), "changes without a gate refresh nothing")
	_, _, err = e.svc.Reassign(e.ctx, ci, jobs.ViaAPI, "qa-50", []string{"bob"})
	require.NoError(t, err)
	event("qa-50")
	after4 := published()
	require.Equal(t, after3[alice], after4[alice], "alice's home no longer shows qa-50")
	require.Equal(t, after3[bob]+1, after4[bob])
	require.Equal(t, after3[carol]+1, after4[carol], "carol's home showed it")
}

// TestHandler_HomeOpenedOnAnotherReplica: Slack delivered app_home_opened
// to replica A, the gate changes on replica B; B finds the home in the
// shared store and refreshes it. A third replica on another store (the old
// per-process memory) would not.
func TestHandler_HomeOpenedOnAnotherReplica(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	api := slack.New(e.emu.BotToken(), slack.OptionAPIURL(e.emu.APIURL()))
	openState := func() *store.DB {
		db, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	shared := openState()
	replica := func(state jobs.ChatState) *gates.Handler {
		return gates.NewHandler(gates.Config{API: api, Service: e.svc, Directory: jobs.NewDirectory(identities), State: state})
	}
	a, b, elsewhere := replica(shared), replica(shared), replica(openState())
	require.NoError(t, a.HomeOpened(e.ctx, carol))
	published := func() int { return len(e.emu.Calls("views.publish")) }

	e.clock.Add(time.Minute)
	e.open("qa-60", jobs.GateConfig{Kind: jobs.KindApproval, Name: "Carol's", Assignees: []string{"carol@example.com"}})
	job := e.job("qa-60")
	before := published()
	elsewhere.OnEvent(e.ctx, jobs.Event{Type: jobs.EventGateOpened, Job: job, Gate: job.LastGate()})
	require.Equal(t, before, published(), "a replica that does not share the store knows no home")
	b.OnEvent(e.ctx, jobs.Event{Type: jobs.EventGateOpened, Job: job, Gate: job.LastGate()})
	require.Equal(t, before+1, published(), "the replica that saw the change refreshes the home opened on the other")
	e.waitHome(carol, "Carol's")
}

// TestHandler_HomeListsAtMostMax checks that a home with more gates than
// it lists shows the newest MaxHomeGates and says that there are more.
func TestHandler_HomeListsAtMostMax(t *testing.T) {
	e := newEnv(t, slackemu.Config{})
	for i := range blocks.MaxHomeGates + 5 {
		e.clock.Add(time.Minute)
		e.open(fmt.Sprintf("qa-%d", 100+i), jobs.GateConfig{Kind: jobs.KindAction, Name: fmt.Sprintf("Gate %d", 100+i), Assignees: []string{"alice"}})
	}
	_, err := e.emu.OpenAppHome(alice)
	require.NoError(t, err)
	v := e.waitHome(alice, "… and more")
	shown := text(v.Blocks)
	require.Contains(t, shown, fmt.Sprintf("Gate %d", 100+blocks.MaxHomeGates+4), "the newest is listed")
	require.Contains(t, shown, "Gate 105")
	require.NotContains(t, shown, "Gate 104", "older than the newest MaxHomeGates")
}

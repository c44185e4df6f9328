package talkbot

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/internal/store"
	"github.com/cla-ops/cla/internal/talkback"
	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// The test binary doubles as every allowlisted command: with TALKBOT_HELPER
// set (through the action's env) it acts out one behaviour and exits, so
// nothing real ever runs.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TALKBOT_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

func helperMain(mode string) int {
	switch mode {
	case "argv": // append argv (without the program) as one JSON line
		line, _ := json.Marshal(os.Args[1:])
		f, err := os.OpenFile(os.Getenv("RECORD"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return 97
		}
		_, _ = f.Write(append(line, '\n'))
		_ = f.Close()
		fmt.Println("recorded", strings.Join(os.Args[1:], " "))
	case "flood": // ~10 KB with characters Slack must see escaped
		for i := 0; i < 200; i++ {
			fmt.Printf("line %04d <b>&amp; ``` padding padding padding\n", i)
		}
		fmt.Println("END-MARKER")
	case "hang": // runs until killed
		fmt.Println("started")
		time.Sleep(time.Hour)
	case "exit":
		fmt.Println("bye")
		code, _ := strconv.Atoi(os.Getenv("CODE"))
		return code
	}
	return 0
}

// Slack users of the fixture. alice, bob and carol are configured in ops;
// erin is configured by email only (found through users.info); dave is not
// configured at all.
const (
	alice = "U0ALICE"
	bob   = "U0BOB"
	carol = "U0CAROL"
	dave  = "U0DAVE"
	erin  = "U0ERIN"
	jobID = "qa-1"
)

const allowlistYAML = `actions:
  - name: probe
    description: record argv
    command: [@EXE@, "{{.args.msg}}", "--job={{.job.id}}", "--user={{.user.name}}", "--email={{.user.email}}", "--channel={{.channel.name}}"]
    args:
      msg: { pattern: "(?s).*", default: "none" }
    env: { TALKBOT_HELPER: argv, RECORD: @REC@ }
    workdir: @DIR@
  - name: restart
    description: Restart one service
    command: [@EXE@, "restart", "{{.args.service}}"]
    args:
      service: { pattern: "^[a-z0-9-]{1,40}$", required: true }
    when: 'job.status in ["in_progress", "action_required"] && "ops" in user.groups'
    env: { TALKBOT_HELPER: argv, RECORD: @REC@ }
  - name: deploy
    description: Deploy while a gate waits
    command: [@EXE@, "deploy", "--env={{.args.env}}"]
    args:
      env: { enum: [staging, production], required: true }
    when: 'job.status == "action_required"'
    env: { TALKBOT_HELPER: argv, RECORD: @REC@ }
  - name: wipe
    description: Needs four eyes
    command: [@EXE@, "wipe", "{{.args.target}}"]
    args:
      target: { pattern: "^[a-z]+$", required: true }
    when: 'job.status == "in_progress"'
    confirm: { groups: [ops] }
    env: { TALKBOT_HELPER: argv, RECORD: @REC@ }
  - name: flood
    command: [@EXE@]
    env: { TALKBOT_HELPER: flood }
  - name: hang
    command: [@EXE@]
    env: { TALKBOT_HELPER: hang }
  - name: fail
    command: [@EXE@]
    env: { TALKBOT_HELPER: exit, CODE: "3" }
`

type fixture struct {
	t       *testing.T
	ctx     context.Context
	emu     *slackemu.Emulator
	svc     *jobs.Service
	h       *Handler
	dir     string // the commands' workdir
	record  string // argv lines land here
	channel string // bound to jobID
	other   string // bound to nothing
	cfg     Config // the handler's, for replicas
	dbPath  string // the bbolt file, "" on another store
	// unknownUsers is the slack.unknownUsers policy: dave, who is in no
	// identity, is the guards' test subject, so the fixture allows him.
	unknownUsers people.UnknownUsers
}

// newFixture builds a real store, service, emulator and allowlist. With
// configured false the handler has no registry.
func newFixture(t *testing.T, configured bool) *fixture {
	t.Helper()
	return newPolicyFixture(t, configured, people.UnknownAllow)
}

// newPolicyFixture is newFixture under a slack.unknownUsers policy.
func newPolicyFixture(t *testing.T, configured bool, policy people.UnknownUsers) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cla.db")
	db, err := store.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	f := newFixtureWith(t, configured, db, policy)
	f.dbPath = path
	return f
}

// newFixtureOn is newFixture on a given store.
func newFixtureOn(t *testing.T, configured bool, db jobs.Store) *fixture {
	t.Helper()
	return newFixtureWith(t, configured, db, people.UnknownAllow)
}

// newFixtureWith is newFixture on a given store under a policy.
func newFixtureWith(t *testing.T, configured bool, db jobs.Store, policy people.UnknownUsers) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // only a failing test waits it out
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, dir: t.TempDir(), unknownUsers: policy}
	f.record = filepath.Join(t.TempDir(), "argv.jsonl")
	f.svc = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	f.emu = slackemu.NewTest(t, slackemu.Config{})
	f.addPeople()
	members := []string{f.emu.BotUserID(), alice, bob, carol, dave, erin}
	f.channel = f.emu.AddChannel(slackemu.Channel{Name: "job-qa-1", Members: members}).ID
	f.other = f.emu.AddChannel(slackemu.Channel{Name: "random", Members: members}).ID
	f.createJob()
	cfg := Config{Service: f.svc, Slack: slack.New(f.emu.BotToken(), slack.OptionAPIURL(f.emu.APIURL())),
		Directory: directory(), Logger: slog.New(slog.DiscardHandler), UnknownUsers: f.unknownUsers}
	if configured {
		cfg.Registry = talkback.NewRegistry(f.allowlist(), cfg.Logger)
		cfg.Executor = talkback.NewExecutor(talkback.ExecutorConfig{MaxPerJob: 4, Logger: cfg.Logger})
	}
	f.h, f.cfg = New(cfg), cfg
	return f
}

// replica builds another Handler, as another cla serve would have: its
// own service (and memory) and executor on the given store, the same Slack
// app and allowlist.
func (f *fixture) replica(db jobs.Store) *Handler {
	cfg := f.cfg
	cfg.Service = jobs.NewService(db, jobs.NewBroker(), jobs.Options{})
	cfg.Executor = talkback.NewExecutor(talkback.ExecutorConfig{MaxPerJob: 4, Logger: cfg.Logger})
	return New(cfg)
}

func (f *fixture) addPeople() {
	f.emu.AddUser(slackemu.User{ID: alice, Email: "alice@example.com"})
	f.emu.AddUser(slackemu.User{ID: bob, Email: "bob@example.com"})
	f.emu.AddUser(slackemu.User{ID: carol, Email: "carol@example.com"})
	f.emu.AddUser(slackemu.User{ID: dave, Email: "dave@example.com"})
	f.emu.AddUser(slackemu.User{ID: erin, Email: "Erin@Example.com"})
}

func directory() *jobs.Directory {
	return jobs.NewDirectory([]jobs.Identity{
		{Name: "alice", Email: "alice@example.com", Slack: alice, Groups: []string{"ops"}},
		{Name: "bob", Email: "bob@example.com", Slack: bob, Groups: []string{"ops"}},
		{Name: "carol", Email: "carol@example.com", Slack: carol, Groups: []string{"ops", "dev"}},
		{Name: "erin", Email: "erin@example.com", Groups: []string{"dev"}},
	})
}

func (f *fixture) createJob() {
	_, err := f.svc.CreateJob(f.ctx, jobs.System, jobs.ViaAPI, jobs.NewJob{ID: jobID, Name: "Deploy v1",
		Context: map[string]any{"release": "v1"}})
	require.NoError(f.t, err)
	_, err = f.svc.Progress(f.ctx, jobs.System, jobs.ViaAPI, jobID, jobs.StatusInProgress, "")
	require.NoError(f.t, err)
	_, err = f.svc.BindChannel(f.ctx, jobs.System, jobs.ViaAPI, jobID, jobs.Channel{ID: f.channel, Name: "job-qa-1"})
	require.NoError(f.t, err)
}

func (f *fixture) allowlist() *talkback.Allowlist {
	exe, err := os.Executable()
	require.NoError(f.t, err)
	src := strings.NewReplacer("@EXE@", strconv.Quote(exe), "@REC@", strconv.Quote(f.record),
		"@DIR@", strconv.Quote(f.dir)).Replace(allowlistYAML)
	path := filepath.Join(f.t.TempDir(), "talkback.yaml")
	require.NoError(f.t, os.WriteFile(path, []byte(src), 0o600))
	l, err := talkback.Load(path)
	require.NoError(f.t, err)
	return l
}

// ask has user type "@cla run <typed>" in channel and returns the request
// the router would hand over: Slack's wire text after "run".
func (f *fixture) ask(user, channel, typed string) Request {
	f.t.Helper()
	ts, err := f.emu.PostMessage(user, channel, slackemu.MentionUser(f.emu.BotUserID())+" run "+typed)
	require.NoError(f.t, err)
	m, ok := f.emu.Message(channel, ts)
	require.True(f.t, ok)
	text, ok := MentionRunText(m.Text, f.emu.BotUserID())
	require.True(f.t, ok, m.Text)
	return Request{UserID: user, ChannelID: channel, TS: ts, Text: text}
}

// runs returns every argv the helper recorded, in order.
func (f *fixture) runs() [][]string {
	f.t.Helper()
	file, err := os.Open(f.record)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(f.t, err)
	defer file.Close()
	var out [][]string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		var argv []string
		require.NoError(f.t, json.Unmarshal(sc.Bytes(), &argv))
		out = append(out, argv)
	}
	return out
}

// talkLog returns the job's talkback log entries.
func (f *fixture) talkLog() []jobs.LogEntry {
	f.t.Helper()
	all, err := f.svc.Log(f.ctx, jobID, 0, 1000)
	require.NoError(f.t, err)
	var out []jobs.LogEntry
	for _, e := range all {
		if e.Kind == jobs.LogTalkBack {
			out = append(out, e)
		}
	}
	return out
}

// phase finds the talkback entry of a phase.
func phase(entries []jobs.LogEntry, p string) (jobs.LogEntry, bool) {
	for _, e := range entries {
		if e.Fields["phase"] == p {
			return e, true
		}
	}
	return jobs.LogEntry{}, false
}

// ephemerals returns what user was told ephemerally.
func (f *fixture) ephemerals(user string) []string {
	var out []string
	for _, e := range f.emu.Ephemerals(user) {
		out = append(out, e.Text)
	}
	return out
}

// botMessages returns the bot's messages in a channel.
func (f *fixture) botMessages(channel string) []slackemu.Message {
	var out []slackemu.Message
	for _, m := range f.emu.Messages(channel) {
		if m.IsBot() {
			out = append(out, m)
		}
	}
	return out
}

// openGate opens an action gate, so the job is action_required.
func (f *fixture) openGate() {
	_, _, err := f.svc.OpenGate(f.ctx, jobs.System, jobs.ViaAPI, jobID, jobs.GateConfig{Kind: jobs.KindAction, Name: "swap disk"})
	require.NoError(f.t, err)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/pgstore/pgtest"
	"github.com/cla-ops/cla/slackemu"
)

// postNoFail sends one JSON request from any goroutine; a transport error
// (a dead replica) is code 0.
func postNoFail(method, rawURL, token string, body any) int {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(b))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReplicas_Failover runs three cla serve replicas on one PostgreSQL
// with the Slack emulator under a mixed load — API completions, mirrored
// Slack messages, gate timers coming due, gate announcements through the
// outbox — and SIGKILLs one replica mid-burst. Afterwards no acknowledged
// write is lost, no announcement was posted twice (the emulator counts),
// every due timer fired exactly once, and the survivors served throughout.
func TestReplicas_Failover(t *testing.T) {
	fresh := pgtest.FreshURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*e2eBudget) // a 30 s lease ends inside it
	defer cancel()
	emu := slackemu.NewTest(t, slackemu.Config{})
	alice := emu.AddUser(slackemu.User{Name: "alice", Email: "alice@example.com"})
	deploys := emu.AddChannel(slackemu.Channel{Name: "deploys", Members: []string{alice.ID, emu.BotUserID()}})
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	env := []string{"CLA_LOG_LEVEL=debug", "E2E_CI_TOKEN=" + tokCI, "SLACK_API_URL=" + emu.APIURL(),
		"SLACK_APP_TOKEN=" + emu.AppToken(), "SLACK_BOT_TOKEN=" + emu.BotToken()}
	var reps []*server
	for i := 0; i < 3; i++ {
		reps = append(reps, startServer(t, env, "--store", fresh, "--addr", "127.0.0.1:0", "--config", cfg))
	}
	require.NoError(t, emu.WaitConnections(ctx, 3), "every replica keeps its own Socket Mode connection")
	var dead atomic.Int32
	dead.Store(-1)
	// do sends a request to replica i, moving on to the next live replica
	// while one does not answer (what a load balancer does).
	// lost reports whether an earlier try reached a replica that gave no
	// answer: such a write may have been committed by the replica as it died.
	doTracked := func(i int, method, path, tok string, body any) (code int, lost bool) {
		for try := 0; try < 6; try++ {
			r := (i + try) % len(reps)
			if int(dead.Load()) == r {
				continue
			}
			if code := postNoFail(method, reps[r].url()+path, tok, body); code != 0 {
				return code, lost
			}
			lost = true
		}
		return 0, lost
	}
	do := func(i int, method, path, tok string, body any) int {
		code, _ := doTracked(i, method, path, tok, body)
		return code
	}
	slackCh := []map[string]any{{"type": "slack", "channelId": deploys.ID}}

	// A channel bound to a job, for mirrored messages.
	require.Equal(t, 201, do(0, "POST", "/v1/jobs", tokCI, map[string]any{"id": "fo-mirror", "name": "Mirror"}))
	_, err := emu.PostMessage(alice.ID, deploys.ID, slackemu.MentionUser(emu.BotUserID())+" add #job-fo-mirror")
	require.NoError(t, err)
	var mirror string
	waitFor(t, ctx, func() bool {
		ch, ok := emu.ChannelByName("job-fo-mirror")
		mirror = ch.ID
		return ok && len(jobOf(t, reps[1], "fo-mirror")["channels"].([]any)) == 1
	})

	const completions, timers, messages = 24, 6, 40
	for i := 0; i < timers; i++ {
		id := fmt.Sprintf("fo-t-%02d", i)
		require.Equal(t, 201, do(i, "POST", "/v1/jobs", tokCI, map[string]any{"id": id, "name": "Timer " + id}))
		require.Equal(t, 201, do(i+1, "POST", "/v1/jobs/"+id+"/gates", tokCI, map[string]any{"kind": "action", "name": "Wait " + id,
			"timeout": "5s", "channels": slackCh}))
	}
	for i := 0; i < completions; i++ {
		id := fmt.Sprintf("fo-c-%02d", i)
		require.Equal(t, 201, do(i, "POST", "/v1/jobs", tokCI, map[string]any{"id": id, "name": "Deploy " + id}))
		require.Equal(t, 201, do(i+2, "POST", "/v1/jobs/"+id+"/gates", tokCI, map[string]any{"kind": "action", "name": "Swap " + id,
			"assignees": []string{"ops"}, "channels": slackCh}))
	}

	// The burst: completions through every replica, chat in the bound
	// channel, and replica 0 killed halfway.
	var acked sync.Map
	var ackedN, committedUnanswered atomic.Int32
	var wg sync.WaitGroup
	killed := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < completions; i++ {
			id := fmt.Sprintf("fo-c-%02d", i)
			code, lost := doTracked(i, "POST", "/v1/jobs/"+id+"/complete", tokAlice, map[string]any{"status": "successful", "message": "swapped"})
			switch {
			case code == 200:
				acked.Store(id, true)
				ackedN.Add(1)
			case code == 409 && lost:
				// The killed replica committed the completion and died
				// before answering; the retry is told the gate is
				// resolved. Whether it holds is checked below.
				committedUnanswered.Add(1)
			}
		}
	}()
	// The survivors answer throughout: reads on replicas 1 and 2 while the
	// burst runs and replica 0 dies.
	burstDone := make(chan struct{})
	var probes, probeFailures atomic.Int32
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		for i := 0; ; i++ {
			select {
			case <-burstDone:
				return
			case <-time.After(25 * time.Millisecond):
			}
			probes.Add(1)
			if code, _ := apiNoFail(reps[1+i%2].url()+"/v1/jobs/fo-mirror", tokCI); code != 200 {
				probeFailures.Add(1)
			}
		}
	}()
	var afterKill []string
	go func() {
		defer wg.Done()
		for i := 0; i < messages; i++ {
			text := fmt.Sprintf("chat line %02d", i)
			select {
			case <-killed:
				afterKill = append(afterKill, text)
			default:
			}
			if _, err := emu.PostMessage(alice.ID, mirror, text); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // a person typing: spreads the chat over the kill
		}
	}()
	for ackedN.Load() < completions/2 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	dead.Store(0)
	require.NoError(t, reps[0].cmd.Process.Kill(), "SIGKILL replica 0")
	close(killed)
	wg.Wait()
	close(burstDone)
	<-probed
	require.Equal(t, int32(completions), ackedN.Load()+committedUnanswered.Load(),
		"every completion was acknowledged, or committed by the dying replica and refused as already resolved on retry")
	require.LessOrEqual(t, committedUnanswered.Load(), int32(1), "only the request in flight at the kill may go unanswered")
	require.Positive(t, probes.Load())
	require.Zero(t, probeFailures.Load(), "a survivor failed to answer during the burst (%d probes)", probes.Load())

	// Survivors keep serving.
	for _, r := range reps[1:] {
		code, _ := httpGet(t, r.url()+"/healthz")
		require.Equal(t, 200, code)
	}

	// 0 acknowledged writes lost.
	for i := 0; i < completions; i++ {
		id := fmt.Sprintf("fo-c-%02d", i)
		g := jobOf(t, reps[1+i%2], id)["gates"].([]any)[0].(map[string]any)
		require.Equal(t, "successful", g["outcome"], "%s: an acknowledged completion was lost", id)
	}
	// Every due timer fires exactly once (whichever replica holds it).
	for i := 0; i < timers; i++ {
		id := fmt.Sprintf("fo-t-%02d", i)
		waitFor(t, ctx, func() bool {
			return jobOf(t, reps[1], id)["gates"].([]any)[0].(map[string]any)["outcome"] == "timed_out"
		})
		require.Equal(t, 1, strings.Count(logText(t, reps[2], id), "timeout 5s passed"), "%s: the timer fired once", id)
	}
	// Mirrored chat: never twice; everything said after the kill arrives.
	waitFor(t, ctx, func() bool {
		log := logText(t, reps[1], "fo-mirror")
		for _, text := range afterKill {
			if !strings.Contains(log, text) {
				return false
			}
		}
		return true
	})
	log := logText(t, reps[2], "fo-mirror")
	for i := 0; i < messages; i++ {
		require.LessOrEqual(t, strings.Count(log, fmt.Sprintf("chat line %02d", i)), 1, "a chat line mirrored twice")
	}
	// Every gate is announced in #deploys exactly once, including those the
	// dead replica had leased (taken over when the lease ends).
	count := func(id string) int {
		n := 0
		for _, m := range emu.Messages(deploys.ID) {
			if m.IsBot() && (m.ThreadTS == "" || m.ThreadTS == m.TS) && strings.Contains(m.Text, id) {
				n++
			}
		}
		return n
	}
	var ids []string
	for i := 0; i < completions; i++ {
		ids = append(ids, fmt.Sprintf("fo-c-%02d", i))
	}
	for i := 0; i < timers; i++ {
		ids = append(ids, fmt.Sprintf("fo-t-%02d", i))
	}
	var missing []string
	for {
		missing = missing[:0]
		for _, id := range ids {
			if count(id) == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling Slack's channel
	}
	if len(missing) > 0 {
		for i, r := range reps {
			t.Logf("replica %d log:\n%s", i, r.logs.String())
		}
		for _, c := range emu.Calls("") {
			if c.Method != "chat.postMessage" || c.Args["channel"] == deploys.ID {
				t.Logf("slack call %s %s %d %q %.80s", c.At.Format("15:04:05.000"), c.Method, c.Status, c.Error, c.Args["text"])
			}
		}
		t.Fatalf("never announced: %v", missing)
	}
	for _, id := range ids {
		require.Equal(t, 1, count(id), "%s announced %d times", id, count(id))
	}
	// And the survivors still take new work.
	require.Equal(t, 201, do(1, "POST", "/v1/jobs", tokCI, map[string]any{"id": "fo-after", "name": "After"}))
	code, _ := api(t, "GET", reps[2].url()+"/v1/jobs/fo-after", tokCI, nil)
	require.Equal(t, 200, code)
	reps[1].stop()
	reps[2].stop()
}

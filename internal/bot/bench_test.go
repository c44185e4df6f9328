package bot

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/slackemu"
)

// slowSlack is the Web API latency the benchmarks inject on every method.
const slowSlack = 500 * time.Millisecond

// benchHarness is a bot with bound channels and warm caches, with every
// Web API call answering after slowSlack.
func benchHarness(b *testing.B, channels int) (*harness, []slackemu.Channel) {
	h := newHarness(b, slackemu.Config{RedeliveryDelay: 3 * time.Second})
	var chans []slackemu.Channel
	for i := range channels {
		chans = append(chans, h.bound(fmt.Sprintf("bench-%d", i)))
	}
	h.emu.InjectFault("*", slackemu.Fault{Latency: slowSlack})
	for _, ch := range chans { // warm the users.info cache for both people
		_, err := h.emu.PostMessage(h.alice.ID, ch.ID, "warm up")
		require.NoError(b, err)
		_, err = h.emu.PostMessage(h.bob.ID, ch.ID, "warm up")
		require.NoError(b, err)
	}
	h.idle()
	return h, chans
}

// ackLatencies returns the ack latencies of the message envelopes sent
// after skip, sorted.
func ackLatencies(b *testing.B, emu *slackemu.Emulator, skip int) []time.Duration {
	var out []time.Duration
	for _, env := range emu.Envelopes()[skip:] {
		if env.Ack != nil && env.Ack.EnvelopeID == env.ID {
			out = append(out, env.Ack.Latency)
		}
	}
	require.NotEmpty(b, out)
	slices.Sort(out)
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(float64(len(d))*q))]
}

// BenchmarkAckLatency posts 200 messages a second into bound channels (the
// acks wait for the durable append) with Slack's Web API answering after
// 500 ms, and reports the ack latency quantiles. One op is one message.
func BenchmarkAckLatency(b *testing.B) {
	h, chans := benchHarness(b, 4)
	skip := len(h.emu.Envelopes())
	tick := time.NewTicker(5 * time.Millisecond) // 200 events/s
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		user := h.alice.ID
		if i%2 == 1 {
			user = h.bob.ID
		}
		_, err := h.emu.PostMessage(user, chans[i%len(chans)].ID, fmt.Sprintf("event %d", i))
		require.NoError(b, err)
	}
	h.idle()
	b.StopTimer()
	lat := ackLatencies(b, h.emu, skip)
	b.ReportMetric(float64(quantile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(quantile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkMirrorThroughput posts messages as fast as 8 writers can into 8
// bound channels and measures until every one is durably appended and
// acked. One op is one message.
func BenchmarkMirrorThroughput(b *testing.B) {
	h, chans := benchHarness(b, 8)
	before := 0
	for _, ch := range chans {
		before += len(h.messages(fmt.Sprintf("bench-%s", ch.Name[len("job-bench-"):])))
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range len(chans) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += len(chans) {
				if _, err := h.emu.PostMessage(h.alice.ID, chans[w].ID, fmt.Sprintf("msg %d", i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	h.idle()
	elapsed := time.Since(start)
	b.StopTimer()
	after := 0
	for i := range chans {
		after += len(h.messages(fmt.Sprintf("bench-%d", i)))
	}
	require.Equal(b, b.N, after-before, "every message mirrored once")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

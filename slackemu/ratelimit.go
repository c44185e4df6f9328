package slackemu

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// RateLimit is a token bucket: PerMinute calls a minute on average, with
// bursts of up to Burst.
type RateLimit struct {
	PerMinute float64
	Burst     int
}

// RateLimits are the limits the emulator enforces, answering HTTP 429 with
// Retry-After (and {"ok":false,"error":"ratelimited"}) like Slack: per Web
// API method for the workspace, and per method and channel.
type RateLimits struct {
	Method  map[string]RateLimit
	Channel map[string]RateLimit
}

// Slack's documented tiers (docs.slack.dev/apis/web-api/rate-limits).
var (
	Tier1 = RateLimit{PerMinute: 1, Burst: 1}
	Tier2 = RateLimit{PerMinute: 20, Burst: 20}
	Tier3 = RateLimit{PerMinute: 50, Burst: 50}
	Tier4 = RateLimit{PerMinute: 100, Burst: 100}
	// PostPerChannel is chat.postMessage's "special" limit: about one
	// message a second per channel, short bursts allowed.
	PostPerChannel = RateLimit{PerMinute: 60, Burst: 3}
)

// SlackTiers returns the tiers of the methods the emulator serves, as
// Slack documents them. Methods not listed are not limited.
func SlackTiers() *RateLimits {
	return &RateLimits{
		Method: map[string]RateLimit{
			"chat.update": Tier3, "chat.delete": Tier3, "chat.postEphemeral": Tier4, "chat.getPermalink": Tier4,
			"views.open": Tier4, "views.publish": Tier4, "views.update": Tier4, "views.push": Tier4,
			"users.info": Tier4, "users.lookupByEmail": Tier3,
			"conversations.create": Tier2, "conversations.join": Tier3, "conversations.invite": Tier3,
			"conversations.info": Tier3, "conversations.history": Tier3, "conversations.replies": Tier3,
			"conversations.members": Tier4, "conversations.list": Tier2,
			"usergroups.list": Tier2, "usergroups.users.list": Tier2,
		},
		Channel: map[string]RateLimit{"chat.postMessage": PostPerChannel},
	}
}

// rateTolerance forgives a caller whose own pacing clock runs slightly
// ahead of the emulator's (the request's trip time).
const rateTolerance = 100 * time.Millisecond

// bucket is one enforced token bucket.
type bucket struct {
	limit  RateLimit
	tokens float64
	at     time.Time
}

// allow takes a token at now, or says how long until one is there.
func (k *bucket) allow(now time.Time) time.Duration {
	rate := k.limit.PerMinute / 60
	k.tokens = min(float64(k.limit.Burst), k.tokens+now.Sub(k.at).Seconds()*rate)
	k.at = now
	if k.tokens+rate*rateTolerance.Seconds() >= 1 {
		k.tokens--
		return 0
	}
	return time.Duration((1 - k.tokens) / rate * float64(time.Second))
}

// rateLimitedLocked applies Config.RateLimits to one call: 0 lets it
// through (taking its tokens), otherwise the Retry-After to answer.
func (e *Emulator) rateLimitedLocked(name string, a *args) time.Duration {
	rl := e.cfg.RateLimits
	if rl == nil {
		return 0
	}
	now := time.Now()
	var keys []string
	var limits []RateLimit
	if l, ok := rl.Method[name]; ok {
		keys, limits = append(keys, name), append(limits, l)
	}
	if l, ok := rl.Channel[name]; ok && a != nil && a.str("channel") != "" {
		keys, limits = append(keys, name+"\x00"+a.str("channel")), append(limits, l)
	}
	var wait time.Duration
	var taken []*bucket
	for i, key := range keys {
		k := e.buckets[key]
		if k == nil {
			k = &bucket{limit: limits[i], tokens: float64(limits[i].Burst), at: now}
			e.buckets[key] = k
		}
		if w := k.allow(now); w > 0 {
			wait = max(wait, w)
			continue
		}
		taken = append(taken, k)
	}
	if wait > 0 { // a refused call costs nothing
		for _, k := range taken {
			k.tokens++
		}
	}
	return wait
}

// rateLimitedAnswer is Slack's 429.
func rateLimitedAnswer(wait time.Duration, hdr http.Header) (int, []byte) {
	hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return http.StatusTooManyRequests, errBody("ratelimited", nil)
}

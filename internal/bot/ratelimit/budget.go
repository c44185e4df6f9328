package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Limit is a token bucket: PerMinute requests a minute on average, with
// bursts of up to Burst at once.
type Limit struct {
	PerMinute float64
	Burst     int
}

// Limits are the rate limits a Budget keeps: per Web API method for the
// whole workspace, and per method and channel.
type Limits struct {
	Method  map[string]Limit
	Channel map[string]Limit
}

// Slack's documented tiers (docs.slack.dev/apis/web-api/rate-limits), per
// method, app and workspace: Tier 1 1+/min, Tier 2 20+/min, Tier 3 50+/min,
// Tier 4 100+/min, each with some burst. chat.postMessage is "special":
// about one message a second per channel, short bursts allowed.
var (
	Tier1 = Limit{PerMinute: 1, Burst: 1}
	Tier2 = Limit{PerMinute: 20, Burst: 20}
	Tier3 = Limit{PerMinute: 50, Burst: 50}
	Tier4 = Limit{PerMinute: 100, Burst: 100}
	// PostPerChannel is chat.postMessage's per-channel limit.
	PostPerChannel = Limit{PerMinute: 60, Burst: 3}
)

// SlackTiers returns the limits of the Web API methods cla calls, as
// Slack documents them. Methods not listed (auth.test,
// apps.connections.open, which Socket Mode reconnects need) are not paced.
func SlackTiers() Limits {
	return Limits{
		Method: map[string]Limit{
			"chat.update": Tier3, "chat.delete": Tier3, "chat.postEphemeral": Tier4, "chat.getPermalink": Tier4,
			"views.open": Tier4, "views.publish": Tier4, "views.update": Tier4, "views.push": Tier4,
			"users.info": Tier4, "users.lookupByEmail": Tier3,
			"conversations.create": Tier2, "conversations.join": Tier3, "conversations.invite": Tier3,
			"conversations.info": Tier3, "conversations.history": Tier3, "conversations.replies": Tier3,
			"conversations.members": Tier4, "conversations.list": Tier2,
			"usergroups.list": Tier2, "usergroups.users.list": Tier2,
		},
		Channel: map[string]Limit{"chat.postMessage": PostPerChannel},
	}
}

// WithHeadroom returns limits whose bursts are one call smaller than
// Slack's (where Slack allows more than one): the budget then leaves one
// call of Slack's burst unused, which absorbs the jitter between the
// moment a call leaves its budget and the moment Slack counts it. Paced at
// exactly Slack's limit, a call delayed on the way (a loaded machine, a
// slow network) lets the next one arrive less than the interval after it,
// and Slack answers 429. The long-run rate is Slack's.
func WithHeadroom(limits Limits) Limits {
	out := Limits{Method: map[string]Limit{}, Channel: map[string]Limit{}}
	shrink := func(l Limit) Limit {
		if l.Burst > 1 {
			l.Burst--
		}
		return l
	}
	for m, l := range limits.Method {
		out.Method[m] = shrink(l)
	}
	for m, l := range limits.Channel {
		out.Channel[m] = shrink(l)
	}
	return out
}

// Budget paces Web API calls so that bursts queue instead of drawing 429s:
// a call waits until every bucket it draws from (its method's, and its
// method-and-channel's) has a token. A nil *Budget paces nothing. It is
// safe for concurrent use; share one per workspace token.
type Budget struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// NewBudget returns a budget keeping limits.
func NewBudget(limits Limits) *Budget {
	return &Budget{limits: limits, now: time.Now, buckets: map[string]*bucket{}}
}

// bucket is one token bucket; tokens may go negative, which is a queue of
// reservations waiting for the refill.
type bucket struct {
	limit  Limit
	tokens float64
	at     time.Time
}

// take reserves one token at now and returns how long to wait for it.
func (k *bucket) take(now time.Time) time.Duration {
	rate := k.limit.PerMinute / 60 // per second
	k.tokens = min(float64(k.limit.Burst), k.tokens+now.Sub(k.at).Seconds()*rate)
	k.at = now
	k.tokens--
	if k.tokens >= 0 {
		return 0
	}
	return time.Duration(-k.tokens / rate * float64(time.Second))
}

// give returns a reservation that will not be used.
func (k *bucket) give() { k.tokens = min(float64(k.limit.Burst), k.tokens+1) }

// reserve takes a token from each bucket of the call and returns the wait
// and the buckets drawn from.
func (b *Budget) reserve(method, channel string) (time.Duration, []*bucket) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var wait time.Duration
	var drawn []*bucket
	draw := func(key string, l Limit) {
		k := b.buckets[key]
		if k == nil {
			k = &bucket{limit: l, tokens: float64(l.Burst), at: now}
			b.buckets[key] = k
		}
		wait = max(wait, k.take(now))
		drawn = append(drawn, k)
	}
	if l, ok := b.limits.Method[method]; ok {
		draw(method, l)
	}
	if l, ok := b.limits.Channel[method]; ok && channel != "" {
		draw(method+"\x00"+channel, l)
	}
	return wait, drawn
}

// Wait waits until a call to method (in channel, "" when none) fits the
// budget, or ctx ends (then its reservation is given back).
func (b *Budget) Wait(ctx context.Context, method, channel string) error {
	if b == nil {
		return nil
	}
	wait, drawn := b.reserve(method, channel)
	if wait <= 0 {
		return nil
	}
	if Sleep(ctx, wait) {
		return nil
	}
	b.mu.Lock()
	for _, k := range drawn {
		k.give()
	}
	b.mu.Unlock()
	return ctx.Err()
}

type pacedKey struct{}

// Paced marks a context whose call has already waited for its budget
// (the Announcer waits before it renders), so the Transport does not
// make it wait twice.
func Paced(ctx context.Context) context.Context { return context.WithValue(ctx, pacedKey{}, true) }

func isPaced(ctx context.Context) bool { v, _ := ctx.Value(pacedKey{}).(bool); return v }

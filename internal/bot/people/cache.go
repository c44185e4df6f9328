package people

import (
	"strings"
	"sync"
	"time"
)

// identityTTL is how long a looked-up email, email owner or channel name
// is trusted. A miss (an email nobody in Slack has) is cached as long, so
// an unknown email costs one call per TTL.
const identityTTL = time.Hour

// maxEntries bounds each cache; past it the cache starts over.
const maxEntries = 10_000

// cache is a string map whose entries expire.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]entry
}

// entry is a cached value with when it was looked up.
type entry struct {
	value string
	at    time.Time
}

func (c *cache) init(ttl time.Duration, now func() time.Time) {
	c.ttl, c.now, c.m = ttl, now, map[string]entry{}
}

// get returns a value looked up less than ttl ago.
func (c *cache) get(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return "", false
	}
	return e.value, true
}

// put stores a value, starting over when the cache is full.
func (c *cache) put(k, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= maxEntries {
		clear(c.m)
	}
	c.m[k] = entry{value: v, at: c.now()}
}

// lower is the cache key of an email.
func lower(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

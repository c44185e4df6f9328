package slackemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// withDefaults fills the zero fields of cfg with Slack-like values.
func withDefaults(cfg Config) Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.TeamID, "T0EMU00001")
	def(&cfg.TeamDomain, "emulated")
	def(&cfg.AppID, "A0EMU00001")
	def(&cfg.BotUserID, "U0EMUBOT01")
	def(&cfg.BotID, "B0EMUBOT01")
	def(&cfg.BotName, "cla")
	def(&cfg.BotToken, "xoxb-"+randomDigits(12)+"-"+randomDigits(13)+"-"+randomHex(12))
	def(&cfg.AppToken, "xapp-1-"+cfg.AppID+"-"+randomDigits(13)+"-"+randomHex(32))
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&cfg.RedeliveryDelay, 3*time.Second)
	dur(&cfg.TriggerTTL, 3*time.Second)
	dur(&cfg.PingInterval, 5*time.Second)
	dur(&cfg.AckTimeout, 10*time.Second)
	dur(&cfg.DisconnectGrace, 10*time.Second)
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes()
	}
	return cfg
}

// newState builds the empty workspace with the bot user in it.
func newState(cfg Config) state {
	s := state{
		users:    map[string]*User{},
		groups:   map[string]*UserGroup{},
		channels: map[string]*channel{},
		dms:      map[string]string{},
		views:    map[string]*View{},
		homes:    map[string]string{},
		triggers: map[string]*trigger{},
		files:    map[string]*File{},
		faults:   map[string][]*Fault{},
		buckets:  map[string]*bucket{},
		tickets:  map[string]bool{},
		conns:    map[int]*conn{},
		envs:     map[string]*envelope{},
		hooks:    map[string]*hook{},
		scopes:   map[string]bool{},
	}
	for _, sc := range cfg.Scopes {
		s.scopes[sc] = true
	}
	bot := &User{ID: cfg.BotUserID, Name: cfg.BotName, RealName: cfg.BotName, IsBot: true}
	s.users[bot.ID] = bot
	s.userOrder = append(s.userOrder, bot.ID)
	return s
}

// nextID returns a Slack-shaped id such as "C0000000A7" (prefix plus nine
// upper-case base-36 characters), unique within the emulator.
func (s *state) nextID(prefix string) string {
	s.seq++
	return prefix + fmt.Sprintf("%09s", strings.ToUpper(strconv.FormatInt(int64(s.seq), 36)))
}

// tsClock hands out Slack message timestamps ("1742000000.000100"): wall
// clock microseconds, strictly increasing even when the clock stalls.
type tsClock struct{ last int64 }

// next returns a new unique ts.
func (c *tsClock) next() string {
	now := time.Now().UnixMicro()
	if now <= c.last {
		now = c.last + 1
	}
	c.last = now
	return fmt.Sprintf("%d.%06d", now/1e6, now%1e6)
}

// tsTime parses a Slack ts back into a time; bad input gives the zero time.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000)
}

// randomHex returns n random lower-case hex characters.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// uuid returns a random RFC 4122 version 4 UUID, the shape of envelope ids
// and client_msg_id.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// obj is a JSON object under construction.
type obj = map[string]any

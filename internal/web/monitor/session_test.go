package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMonitor_open(t *testing.T) {
	f := newFixture(t)
	m := f.mon
	good := claim{Name: "alice", Exp: time.Now().Add(time.Hour).Unix(), Nonce: "abcdefabcdefabcdef"}
	sealed := m.seal(purposeSession, good)
	c, ok := m.open(purposeSession, sealed)
	require.True(t, ok)
	require.Equal(t, good, c)
	for name, tc := range map[string]struct{ purpose, token string }{
		"other purpose": {purposeLink, sealed},
		"no dot":        {purposeSession, strings.ReplaceAll(sealed, ".", "")},
		"bad base64":    {purposeSession, "!!!." + strings.Split(sealed, ".")[1]},
		"flipped mac":   {purposeSession, sealed[:len(sealed)-2] + "AA"},
		"empty":         {purposeSession, ""},
		"no name":       {purposeSession, m.seal(purposeSession, claim{Exp: good.Exp, Nonce: "x"})},
		"expired":       {purposeSession, m.seal(purposeSession, claim{Name: "a", Exp: 1, Nonce: "x"})},
		"other key":     {purposeSession, otherKey(t, f).seal(purposeSession, good)},
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := m.open(tc.purpose, tc.token)
			require.False(t, ok)
		})
	}
}

func otherKey(t *testing.T, f *fixture) *Monitor {
	m, err := New(Config{Service: f.svc, Authenticate: f.mon.cfg.Authenticate, Identity: f.mon.cfg.Identity,
		SessionKey: []byte("another key of at least 32 bytes!!")})
	require.NoError(t, err)
	return m
}

// FuzzMonitor_open feeds arbitrary tokens to the claim parser: it must never
// panic and never accept a token it did not seal.
func FuzzMonitor_open(f *testing.F) {
	m := &Monitor{cfg: Config{SessionKey: []byte("0123456789abcdef0123456789abcdef")}}
	f.Add(m.seal(purposeSession, claim{Name: "alice", Exp: 1 << 40, Nonce: "n"}))
	f.Add("eyJuIjoiYWxpY2UiLCJ4IjoxMDk5NTExNjI3Nzc2LCJzIjoibiJ9.AAAA")
	f.Add(".")
	f.Fuzz(func(t *testing.T, token string) {
		c, ok := m.open(purposeSession, token)
		if ok && m.seal(purposeSession, c) != token {
			// A different encoding of a sealed claim would need the MAC.
			p, _, _ := strings.Cut(token, ".")
			require.Failf(t, "accepted a forged token", "payload %q", p)
		}
	})
}

// FuzzParseScanCursor checks that any cursor is either refused or points
// inside the list of status indexes.
func FuzzParseScanCursor(f *testing.F) {
	f.Add("0~abc", 3)
	f.Add("2~", 3)
	f.Add("-1~x", 1)
	f.Add("9999999999999999999~", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		c, err := parseScanCursor(s, n)
		if err == nil && s != "" {
			require.GreaterOrEqual(t, c.Index, 0)
			require.Less(t, c.Index, n)
		}
	})
}

package notify_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/notify"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 13, 14, 0, 0, 0, time.UTC)

func newCallbacks(t *testing.T, secret string, now *time.Time) *notify.Callbacks {
	t.Helper()
	cb, err := notify.NewCallbacks(secret, func() time.Time { return *now })
	require.NoError(t, err)
	return cb
}

func TestCallbacks_SignVerify(t *testing.T) {
	now := t0
	cb := newCallbacks(t, "s3cret-webhook-key", &now)
	tok := cb.Sign("qa-1234", "g2", t0.Add(time.Hour))
	job, gate, err := cb.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "qa-1234", job)
	require.Equal(t, "g2", gate)
	require.NotEqual(t, tok, cb.Sign("qa-1234", "g2", t0.Add(time.Hour)), "each token carries its own nonce")
	require.NotContains(t, tok, "/", "a token is one URL path segment")
}

func TestCallbacks_Verify(t *testing.T) {
	now := t0
	cb := newCallbacks(t, "s3cret-webhook-key", &now)
	other := newCallbacks(t, "another-secret", &now)
	good := cb.Sign("qa-1234", "g1", t0.Add(time.Hour))
	parts := strings.Split(good, ".")
	forged := other.Sign("qa-1234", "g1", t0.Add(time.Hour))
	// Same key id and signature, payload of another job: tampered.
	swapped := parts[0] + "." + strings.Split(cb.Sign("qa-9999", "g1", t0.Add(time.Hour)), ".")[1] + "." + parts[2]
	flipped := []byte(good)
	if flipped[len(flipped)-2] == 'A' {
		flipped[len(flipped)-2] = 'B'
	} else {
		flipped[len(flipped)-2] = 'A'
	}
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"foreign secret", forged, notify.ErrTokenForeign},
		{"payload swapped", swapped, notify.ErrTokenTampered},
		{"signature flipped", string(flipped), notify.ErrTokenTampered},
		{"empty", "", notify.ErrTokenMalformed},
		{"two parts", parts[0] + "." + parts[1], notify.ErrTokenMalformed},
		{"four parts", good + ".x", notify.ErrTokenMalformed},
		{"bad base64", parts[0] + ".!!!." + parts[2], notify.ErrTokenMalformed},
		{"short signature", parts[0] + "." + parts[1] + ".AAAA", notify.ErrTokenMalformed},
		{"huge", strings.Repeat("a", 10000), notify.ErrTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, gate, err := cb.Verify(tc.token)
			require.True(t, errors.Is(err, tc.want), "got %v, want %v", err, tc.want)
			require.Empty(t, job)
			require.Empty(t, gate)
		})
	}
	t.Run("expired", func(t *testing.T) {
		tok := cb.Sign("qa-1234", "g1", t0.Add(time.Minute))
		now = t0.Add(time.Minute)
		defer func() { now = t0 }()
		_, _, err := cb.Verify(tok)
		require.ErrorIs(t, err, notify.ErrTokenExpired)
		require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(err))
	})
	t.Run("codes", func(t *testing.T) {
		require.Equal(t, jobs.EINVALID, jobs.ErrorCode(notify.ErrTokenMalformed))
		for _, e := range []error{notify.ErrTokenForeign, notify.ErrTokenTampered, notify.ErrTokenExpired} {
			require.Equal(t, jobs.EFORBIDDEN, jobs.ErrorCode(e))
		}
	})
}

func TestNewCallbacks_EmptySecret(t *testing.T) {
	_, err := notify.NewCallbacks("", nil)
	require.Error(t, err)
}

func TestExpiry(t *testing.T) {
	soon := t0.Add(2 * time.Hour)
	late := t0.Add(90 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		deadline *time.Time
		want     time.Time
	}{
		{"no deadline", nil, t0.Add(notify.MaxCallbackLifetime)},
		{"deadline first", &soon, soon},
		{"deadline beyond the cap", &late, t0.Add(notify.MaxCallbackLifetime)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, notify.Expiry(&jobs.Gate{Deadline: tc.deadline}, t0))
		})
	}
}

func FuzzCallbacks_Verify(f *testing.F) {
	now := t0
	cb, _ := notify.NewCallbacks("fuzz-secret", func() time.Time { return now })
	f.Add(cb.Sign("qa-1", "g1", t0.Add(time.Hour)))
	f.Add("00000000.AAAA.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		job, gate, err := cb.Verify(token)
		if err != nil {
			require.Empty(t, job)
			return
		}
		require.True(t, jobs.ValidID(job), "accepted token names a valid job id")
		require.NotEmpty(t, gate)
	})
}

// TestCallbacks_OneSpellingPerToken: a token has exactly one spelling. The
// single-use key is the token's text, so a second spelling that verified
// (base64's unused low bits of the last signature character changed)
// would be a fresh, unspent token for the same gate.
func TestCallbacks_OneSpellingPerToken(t *testing.T) {
	now := t0
	cb := newCallbacks(t, "s3cret-webhook-key", &now)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for range 8 { // tokens differ by nonce, so their last characters vary
		tok := cb.Sign("qa-1234", "g1", t0.Add(time.Hour))
		_, _, err := cb.Verify(tok)
		require.NoError(t, err)
		for _, c := range alphabet {
			sibling := tok[:len(tok)-1] + string(c)
			if sibling == tok {
				continue
			}
			_, _, err := cb.Verify(sibling)
			require.Error(t, err, "%s verified as well as %s", sibling, tok)
		}
	}
}

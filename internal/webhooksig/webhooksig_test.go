package webhooksig_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cla-ops/cla/internal/webhooksig"
	"github.com/stretchr/testify/require"
)

func TestSign(t *testing.T) {
	// echo -n '1700000000.{}' | openssl dgst -sha256 -hmac key
	require.Equal(t, "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae",
		webhooksig.Sign([]byte("key"), "1700000000", []byte("{}")))
	// echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
	require.Equal(t, "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
		webhooksig.Sign([]byte("secret"), "1700000000", []byte(`{"a":1}`)))
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"gate_opened"}`)
	signed := func() http.Header {
		h := http.Header{}
		webhooksig.SetHeaders(h, []byte("key"), now, body)
		return h
	}
	require.Equal(t, "1700000000", signed().Get("X-Cla-Timestamp"))
	tests := []struct {
		name   string
		header func() http.Header
		secret string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", signed, "key", body, now, nil},
		{"valid a little later", signed, "key", body, now.Add(4 * time.Minute), nil},
		{"replayed later", signed, "key", body, now.Add(time.Hour), webhooksig.ErrStale},
		{"from the future", signed, "key", body, now.Add(-time.Hour), webhooksig.ErrStale},
		{"other secret", signed, "other", body, now, webhooksig.ErrSignature},
		{"body changed", signed, "key", []byte(`{"event":"gate_resolved"}`), now, webhooksig.ErrSignature},
		{"timestamp changed", func() http.Header {
			h := signed()
			h.Set("X-Cla-Timestamp", "1700000001")
			return h
		}, "key", body, now, webhooksig.ErrSignature},
		{"no signature", func() http.Header {
			h := signed()
			h.Del("X-Cla-Signature")
			return h
		}, "key", body, now, webhooksig.ErrMissing},
		{"malformed timestamp", func() http.Header {
			h := signed()
			h.Set("X-Cla-Timestamp", "yesterday")
			return h
		}, "key", body, now, webhooksig.ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhooksig.Verify(tt.header(), []byte(tt.secret), tt.body, tt.at, 5*time.Minute)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

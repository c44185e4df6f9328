// Package webhooksig signs and verifies cla's outgoing webhooks (SPEC §7):
// the server's notifier and the workflow runner send the same headers, so a
// receiver checks both with one routine.
//
//	X-Cla-Timestamp: <unix seconds>
//	X-Cla-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The signature covers the timestamp, so a receiver that bounds the
// timestamp's age refuses replays as well as forgeries.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Header names (SPEC §7).
const (
	HeaderTimestamp = "X-Cla-Timestamp"
	HeaderSignature = "X-Cla-Signature"
)

// Errors returned by Verify; compare with errors.Is.
var (
	ErrMissing   = errors.New("webhook timestamp or signature missing or malformed")
	ErrStale     = errors.New("webhook timestamp too old or in the future")
	ErrSignature = errors.New("webhook signature mismatch")
)

// Sign returns the X-Cla-Signature value of body sent at the unix
// timestamp ts (decimal seconds, as in X-Cla-Timestamp).
func Sign(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}

// SetHeaders stamps h with the timestamp of now and the signature of body.
func SetHeaders(h http.Header, secret []byte, now time.Time, body []byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
}

// Verify checks the headers of a received webhook against its body: the
// signature must match and the timestamp lie within maxAge of now, either
// way. The comparison takes constant time.
func Verify(h http.Header, secret, body []byte, now time.Time, maxAge time.Duration) error {
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return ErrMissing
	}
	if age := now.Sub(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return ErrSignature
	}
	return nil
}

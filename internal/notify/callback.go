package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// Callback token errors. They are domain errors, so the web layer maps them
// to statuses with jobs.ErrorCode; errors.Is tells them apart.
var (
	// ErrTokenMalformed: not a callback token at all.
	ErrTokenMalformed = &jobs.Error{Code: jobs.EINVALID, Message: "callback token is malformed"}
	// ErrTokenForeign: a well-formed token signed with another secret
	// (another cla server, or a rotated secret).
	ErrTokenForeign = &jobs.Error{Code: jobs.EFORBIDDEN, Message: "callback token was not issued by this server"}
	// ErrTokenTampered: the key id is ours but the signature does not match
	// the content, so someone changed it.
	ErrTokenTampered = &jobs.Error{Code: jobs.EFORBIDDEN, Message: "callback token signature is invalid"}
	// ErrTokenExpired: the token outlived its gate's deadline or the
	// maximum lifetime.
	ErrTokenExpired = &jobs.Error{Code: jobs.EFORBIDDEN, Message: "callback token has expired"}
)

// MaxCallbackLifetime bounds a callback token of a gate without deadline,
// so that a leaked URL does not stay valid forever.
const MaxCallbackLifetime = 30 * 24 * time.Hour

const maxTokenLen = 512

// Callbacks signs and verifies the tokens of webhook callback URLs
// (<public-url>/v1/callbacks/<token>). A token names one gate of one job,
// expires, and is authenticated with an HMAC keyed from the webhook
// secret; making it single use is the web layer's job (store.Once).
type Callbacks struct {
	key []byte // HMAC key for tokens, derived so it never equals the webhook signing key
	kid string // public fingerprint of the key: tells foreign tokens from tampered ones
	now func() time.Time
}

// NewCallbacks derives the token keys from the webhook secret. now is the
// clock used for expiry (time.Now when nil).
func NewCallbacks(secret string, now func() time.Time) (*Callbacks, error) {
	if secret == "" {
		return nil, errors.New("callback tokens need a non-empty webhook secret")
	}
	if now == nil {
		now = time.Now
	}
	kid := mac([]byte(secret), []byte("cla callback key id v1"))
	return &Callbacks{
		key: mac([]byte(secret), []byte("cla callback token v1")),
		kid: hex.EncodeToString(kid[:4]),
		now: now,
	}, nil
}

// Sign returns a token for the gate that expires at expires (truncated to
// the second). Each call adds a random nonce, so every notification gets
// its own single-use token.
func (c *Callbacks) Sign(jobID, gateID string, expires time.Time) string {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	payload := strings.Join([]string{"v1", jobID, gateID, strconv.FormatInt(expires.Unix(), 10), hex.EncodeToString(nonce)}, "\n")
	body := c.kid + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(c.key, []byte(body)))
}

// Verify checks a token and returns the job and gate it names. It is the
// CallbackVerifier the web layer's POST /v1/callbacks/{token} calls.
func (c *Callbacks) Verify(token string) (jobID, gateID string, err error) {
	if len(token) > maxTokenLen {
		return "", "", ErrTokenMalformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[0]) != 8 {
		return "", "", ErrTokenMalformed
	}
	// Strict: a token has one spelling. Its text is its single-use key, so
	// a second spelling (other unused low bits in the last character)
	// would be an unspent copy of a spent token.
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) != sha256.Size {
		return "", "", ErrTokenMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return "", "", ErrTokenMalformed
	}
	if !hmac.Equal([]byte(parts[0]), []byte(c.kid)) {
		return "", "", ErrTokenForeign
	}
	if !hmac.Equal(sig, mac(c.key, []byte(parts[0]+"."+parts[1]))) {
		return "", "", ErrTokenTampered
	}
	return c.checkPayload(string(raw))
}

func (c *Callbacks) checkPayload(payload string) (jobID, gateID string, err error) {
	f := strings.Split(payload, "\n")
	if len(f) != 5 || f[0] != "v1" || !jobs.ValidID(f[1]) || f[2] == "" {
		return "", "", ErrTokenMalformed
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return "", "", ErrTokenMalformed
	}
	if !c.now().Before(time.Unix(exp, 0)) {
		return "", "", ErrTokenExpired
	}
	return f[1], f[2], nil
}

// Expiry is when a callback token for the gate should stop working: the
// gate's deadline, but no later than MaxCallbackLifetime from now.
func Expiry(g *jobs.Gate, now time.Time) time.Time {
	limit := now.Add(MaxCallbackLifetime)
	if g.Deadline != nil && g.Deadline.Before(limit) {
		return *g.Deadline
	}
	return limit
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
